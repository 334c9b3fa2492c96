"""The convolutional autoencoder and the training-time entropy model.

Imports torch: only the codec's ``create()`` and the trainer load this module.

The analysis transform folds each 4x4 pixel block into 16 channels (pixel unshuffle) and runs
3x3 convolutions on the 7x7 grid that leaves; the synthesis transform mirrors it and unfolds
16 channels back into 4x4 blocks. Folding first keeps every convolution a wide matrix product
(a 1-channel 5x5 convolution on 28x28 runs an order of magnitude slower per operation on a
CPU), which is what lets every rate point train in minutes. Each transform has a linear 3x3
path beside its ReLU path: the linear part learns a good transform in a few hundred steps,
the ReLU part the rest (without them, our high-rate trials stalled below 30 dB on MNIST in the
same training time).

The prior is fully factorized: every latent element (channel, row, column) has its own mixture
of ``COMPONENTS`` Gaussians (MNIST digits are centred, so a corner element and a centre element
differ; and an element is often bimodal, background or stroke). Training adds uniform noise in
[-0.5, 0.5) in place of rounding and charges the noisy latent its probability mass under the
mixture convolved with that noise, in bits.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

FOLD = 4  # pixels per latent side: 28x28 -> 7x7
IMAGE_SIDE = 28
GRID = IMAGE_SIDE // FOLD
COMPONENTS = 3
#: the smallest scale a mixture component may take
MIN_SCALE = 0.11
#: the probability floor of one latent's mass, so that log2 stays finite
MIN_LIKELIHOOD = 1e-9
#: the linear paths start with this gain into the latent (and its inverse out of it), so that
#: the uniform noise starts small beside the signal
INITIAL_GAIN = 3.0


class ConvAE(nn.Module):
    """``hidden`` channels inside the transforms, ``latent`` channels in the 7x7 code."""

    def __init__(self, hidden: int, latent: int) -> None:
        super().__init__()
        self.hidden, self.latent = hidden, latent
        fold = FOLD * FOLD
        self.encoder = nn.Sequential(
            nn.Conv2d(fold, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, latent, 3, padding=1),
        )
        self.encoder_linear = nn.Conv2d(fold, latent, 3, padding=1)
        self.decoder = nn.Sequential(
            nn.Conv2d(latent, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
            nn.Conv2d(hidden, fold, 3, padding=1),
        )
        self.decoder_linear = nn.Conv2d(latent, fold, 3, padding=1)
        with torch.no_grad():
            self.encoder_linear.weight.mul_(INITIAL_GAIN)
            self.encoder_linear.bias.mul_(INITIAL_GAIN)
            self.decoder_linear.weight.div_(INITIAL_GAIN)
        shape = (COMPONENTS, latent, GRID, GRID)
        # spread the components' initial means so that they do not move as one
        self.prior_means = nn.Parameter(torch.linspace(-1, 1, COMPONENTS).view(-1, 1, 1, 1).expand(shape).clone())
        self.prior_log_scales = nn.Parameter(torch.zeros(shape))
        self.prior_logits = nn.Parameter(torch.zeros(shape))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latents (B, latent, 7, 7) of images (B, 1, 28, 28) in [0, 1]."""
        folded = F.pixel_unshuffle(x, FOLD)
        return self.encoder(folded) + self.encoder_linear(folded)

    def decode(self, y: torch.Tensor) -> torch.Tensor:
        """Images (B, 1, 28, 28), not clipped (the codec clips and rounds)."""
        return F.pixel_shuffle(self.decoder(y) + self.decoder_linear(y), FOLD)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Training pass: the reconstruction from the noisy latent, clipped to [0, 1] as the
        codec clips it (so the model need not spend effort on values the clip removes), and
        each image's rate in bits (B,)."""
        y = self.encode(x)
        noisy = y + torch.rand(y.shape, generator=generator) - 0.5
        return F.hardtanh(self.decode(noisy), 0.0, 1.0), self.bits(noisy)

    def mixture(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Means, scales and weights of every element's mixture, (COMPONENTS, latent, 7, 7) each."""
        return (self.prior_means, self.prior_log_scales.exp().clamp_min(MIN_SCALE),
                torch.softmax(self.prior_logits, dim=0))

    def bits(self, noisy: torch.Tensor) -> torch.Tensor:
        """-log2 of each noisy latent's mass under its mixture, summed per image."""
        means, scales, weights = self.mixture()
        v = noisy.unsqueeze(1)
        mass = weights * (_normal_cdf((v - means + 0.5) / scales) - _normal_cdf((v - means - 0.5) / scales))
        return -torch.log2(mass.sum(dim=1).clamp_min(MIN_LIKELIHOOD)).flatten(1).sum(dim=1)


def _normal_cdf(x: torch.Tensor) -> torch.Tensor:
    return 0.5 * torch.erfc(-x / math.sqrt(2))


def state_to_numpy(model: ConvAE) -> dict[str, np.ndarray]:
    """The parameters as float32 arrays, named as in ``state_dict`` (for the weights file)."""
    return {name: t.detach().numpy().astype(np.float32) for name, t in model.state_dict().items()}


def mixture_numpy(params: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Means, scales, weights (COMPONENTS, elements) in float64 from stored parameters, as
    ``ConvAE.mixture`` computes them (for building the coding tables)."""
    means = np.asarray(params["prior_means"], np.float64).reshape(COMPONENTS, -1)
    scales = np.maximum(np.exp(np.asarray(params["prior_log_scales"], np.float64)), MIN_SCALE).reshape(COMPONENTS, -1)
    logits = np.asarray(params["prior_logits"], np.float64).reshape(COMPONENTS, -1)
    weights = np.exp(logits - logits.max(axis=0))
    return means, scales, weights / weights.sum(axis=0)


def from_numpy(tensors: dict[str, np.ndarray], hidden: int, latent: int) -> ConvAE:
    """A model in eval mode from a weights file's arrays (float16 or float32), in float32."""
    with torch.random.fork_rng(devices=[]):  # the throwaway initialization leaves torch's RNG alone
        model = ConvAE(hidden, latent)
    model.load_state_dict({name: torch.from_numpy(np.asarray(a, np.float32)) for name, a in tensors.items()})
    return model.eval()

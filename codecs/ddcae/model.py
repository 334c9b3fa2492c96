"""The paper's network (Wani & Selvam, Figure 2): a fully connected denoising autoencoder.

Imports torch: only the codec's ``create()`` and the trainer load this module.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import torch
from torch import nn

from .weights_file import CODE_SIZE, LAYERS, PIXELS


class DDCAE(nn.Module):
    """Encoder 784-256-128-64, a ReLU after each layer; decoder 64-128-256-784 with ReLU,
    ReLU, Sigmoid. Inputs are flattened images scaled to [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = _stack(LAYERS, last=nn.ReLU())
        self.decoder = _stack(LAYERS[::-1], last=nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


def _stack(sizes: tuple[int, ...], last: nn.Module) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        # not inplace=True (as printed in Fig. 2): the result is the same and autograd is simpler
        layers.append(last if i == len(sizes) - 2 else nn.ReLU())
    return nn.Sequential(*layers)


def state_to_numpy(model: DDCAE) -> dict[str, np.ndarray]:
    """The parameters as float32 arrays, named as in ``state_dict`` (for the weights file)."""
    return {name: t.detach().numpy().astype(np.float32) for name, t in model.state_dict().items()}


def from_numpy(tensors: dict[str, np.ndarray], dtype: torch.dtype = torch.float32) -> DDCAE:
    """A model in eval mode from the weights file's arrays.

    Inference runs in float64: with float32, the BLAS kernel chosen for a batch of 1 and for a
    batch of 1000 round differently, which can move a code across a quantization boundary and
    make the bytes of an image depend on the batch it was encoded in.
    """
    model = DDCAE()
    model.load_state_dict({name: torch.from_numpy(np.asarray(a)) for name, a in tensors.items()})
    return model.to(dtype).eval()


assert LAYERS[0] == PIXELS and LAYERS[-1] == CODE_SIZE

"""Denoising training (paper, Secs. II-III), then the entropy model fit; writes the weights file,
the per-epoch log (CSV) and the loss curve (the paper's Fig. 5).

Reproducible on CPU: one seed drives the initial weights (torch.manual_seed, inside fork_rng so
the caller's global RNG is left alone) and a private torch.Generator drives the shuffling and
the noise. Same seed, machine and thread count: the same weights file, byte for byte (tested).
torch.use_deterministic_algorithms is not set: the CPU kernels used here are deterministic
already, and it would import torch._dynamo (~3 s) for nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from compbench import line_chart, load_dataset

from .._training_log import write_csv
from . import weights_file
from .entropy import CodeHistogram
from .model import DDCAE, from_numpy, state_to_numpy

#: fine-histogram bin width for the entropy model; the smallest allowed step (1/16) spans 8 bins
GRID = 1 / 128
LOG_NAME = "training-log.csv"
PLOT_NAME = "loss-curve.png"


@dataclass(frozen=True)
class Epoch:
    epoch: int  # 0: the initial weights, before any step
    train_loss: float  # mean MSE ([0, 1] scale) on the noisy training inputs during the epoch
    test_loss: float  # MSE on the clean test images (the code not quantized)
    test_psnr: float  # mean per-image PSNR (dB) of those reconstructions in grey levels
    seconds: float  # the epoch's wall time, its test evaluation included


def run(settings: dict, out: Path, log: Callable[[str], None]) -> Path:
    x_train = _as_input(_mnist("train", settings["limit"]))
    x_test = _as_input(_mnist("test"))
    model, history = _fit(settings, x_train, x_test, log)

    params = state_to_numpy(model)
    histogram = CodeHistogram.fit(encode_float64(params, x_train), GRID)
    config = {
        "trainer": dict(settings),
        "dataset": "mnist/train",
        "train_images": len(x_train),
        "optimizer": "Adam, torch defaults (lr 1e-3, betas 0.9/0.999), fused",
        "noise": "Gaussian, std noise/255 on the [0, 1] scale, not clipped",
        "loss": "MSE, noisy input vs clean target, [0, 1] scale",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "test_loss": round(history[-1].test_loss, 6),
        "test_psnr_unquantized": round(history[-1].test_psnr, 3),
    }
    out.mkdir(parents=True, exist_ok=True)
    path = out / weights_file.DEFAULT_WEIGHTS.name
    weights_file.save(path, params, histogram, config)
    write_csv(out / LOG_NAME, history)
    _plot(out / PLOT_NAME, history, settings)
    return path


def _mnist(split: str, limit: int | None = None) -> np.ndarray:
    """The first ``limit`` images of an MNIST split (all: None), (N, 28, 28) uint8."""
    source = load_dataset("mnist", split)
    return np.stack(source.read(range(len(source))))[:limit]


def _as_input(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255)


def _fit(settings: dict, x_train: torch.Tensor, x_test: torch.Tensor,
         log: Callable[[str], None]) -> tuple[DDCAE, list[Epoch]]:
    sigma, batch_size = settings["noise"] / 255, settings["batch_size"]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(settings["seed"])
        model = DDCAE()
    generator = torch.Generator().manual_seed(settings["seed"])
    # the paper: Adam with default settings; fused=True is the same update in one kernel,
    # 0.4 ms a step instead of 2.5-3.5 ms here: 1-1.5 s of each 60k-image epoch at batch 128
    optimizer = torch.optim.Adam(model.parameters(), fused=True)
    loss_fn = nn.MSELoss()

    def noisy(x: torch.Tensor) -> torch.Tensor:
        # not clipped to [0, 1]: the paper adds the noise and feeds the result as is
        return x + sigma * torch.randn(x.shape, generator=generator)

    start = time.perf_counter()
    with torch.no_grad():
        initial = sum(loss_fn(model(noisy(x)), x).item() * len(x)
                      for x in x_train.split(batch_size))
    history = [Epoch(0, initial / len(x_train), *_evaluate(model, x_test),
                     time.perf_counter() - start)]
    for epoch in range(1, settings["epochs"] + 1):
        start = time.perf_counter()
        model.train()
        total = 0.0
        for batch in torch.randperm(len(x_train), generator=generator).split(batch_size):
            x = x_train[batch]
            loss = loss_fn(model(noisy(x)), x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        row = Epoch(epoch, total / len(x_train), *_evaluate(model, x_test),
                    time.perf_counter() - start)
        history.append(row)
        log(f"epoch {epoch}/{settings['epochs']}: train loss {row.train_loss:.5f}, test loss "
            f"{row.test_loss:.5f}, test PSNR {row.test_psnr:.2f} dB ({row.seconds:.1f} s)")
    return model, history


def encode_float64(params: dict[str, np.ndarray], x: torch.Tensor) -> np.ndarray:
    """Codes as the codec computes them (float64 inference), for fitting the entropy model."""
    encoder = from_numpy(params, torch.float64).encoder
    with torch.inference_mode():
        return torch.cat([encoder(chunk.double()) for chunk in x.split(8192)]).numpy()


def _evaluate(model: nn.Module, x_test: torch.Tensor) -> tuple[float, float]:
    """Test MSE ([0, 1] scale) and mean per-image PSNR of the reconstructions rounded to grey
    levels, as compbench measures it (but with the code unquantized)."""
    model.eval()
    with torch.no_grad():
        y = model(x_test)
        test_loss = nn.functional.mse_loss(y, x_test).item()
        # float32 grey levels: exact integers, and the per-image means are good to ~1e-7
        error = (torch.round(y * 255) - torch.round(x_test * 255)).square().mean(dim=1)
        psnr = 10 * torch.log10(255.0**2 / error)
    return test_loss, psnr.mean().item()



def _plot(path: Path, history: list[Epoch], settings: dict) -> None:
    epochs = [h.epoch for h in history]
    line_chart(path, {"train (noisy input, mean over the epoch)": (epochs[1:], [h.train_loss for h in history[1:]]),
                      "test (clean input)": (epochs, [h.test_loss for h in history])},
               xlabel="epoch", ylabel="MSE loss ([0, 1] scale)", log_y=True, styles={"test (clean input)": "s-"},
               title=f"DDCAE loss per epoch (noise {settings['noise']:g}/255, "
                     f"batch {settings['batch_size']}, seed {settings['seed']})")

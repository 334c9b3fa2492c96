"""The weights file: network parameters, entropy model and training config in one safetensors
file, with a sha256 over all of it, checked on every load.

safetensors holds only arrays and a str -> str metadata map, so loading cannot run code (unlike
a pickle). Numpy only: checking a file (``available()``) must not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from .. import _weights_file
from .entropy import CodeHistogram

PIXELS = 28 * 28
LAYERS = (PIXELS, 256, 128, 64)  # encoder widths; the decoder mirrors them (paper, Fig. 2)
CODE_SIZE = LAYERS[-1]
ARCHITECTURE = "-".join(map(str, LAYERS))
FORMAT = "compbench-ddcae/1"
METADATA_KEY = "compbench-ddcae"
WEIGHTS_DIR = Path(__file__).with_name("weights-data")
DEFAULT_WEIGHTS = WEIGHTS_DIR / "ddcae.safetensors"
TRAIN_COMMAND = "compbench train ddcae"
FIX = f"run `{TRAIN_COMMAND}` to rebuild it"


class WeightsError(_weights_file.WeightsError):
    """A DDCAE weights file that is missing, corrupt or not for this network."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(path, problem, "DDCAE", FIX)


@dataclass(frozen=True)
class Weights:
    path: Path
    params: dict[str, np.ndarray]  # state_dict names -> float32 arrays
    histogram: CodeHistogram
    config: dict  # how it was trained (trainer settings, versions, final test figures)
    sha256: str  # of every tensor and metadata entry; identifies the weights in manifests


def param_shapes() -> dict[str, tuple[int, ...]]:
    """state_dict names and shapes of the paper's network (encoder.0, .2, .4; decoder.0, .2, .4)."""
    shapes = {}
    for part, sizes in (("encoder", LAYERS), ("decoder", LAYERS[::-1])):
        for i, (n_in, n_out) in enumerate(pairwise(sizes)):
            shapes[f"{part}.{2 * i}.weight"] = (n_out, n_in)
            shapes[f"{part}.{2 * i}.bias"] = (n_out,)
    return shapes


def save(path: Path, params: dict[str, np.ndarray], histogram: CodeHistogram,
         config: dict) -> str:
    """Write the file atomically (a crash leaves the old file intact); returns its sha256.

    The same inputs give the same bytes: the metadata is one JSON entry with sorted keys
    (safetensors writes several entries in a random order)."""
    tensors = {name: np.ascontiguousarray(a, np.float32) for name, a in params.items()}
    tensors["entropy.start"] = histogram.start.astype(np.int64)
    tensors["entropy.sizes"] = np.array([len(c) for c in histogram.counts], np.int64)
    tensors["entropy.counts"] = np.concatenate(histogram.counts).astype(np.int32)
    info = {"format": FORMAT, "architecture": ARCHITECTURE, "entropy_grid": histogram.grid,
            "config": config}
    return _weights_file.write(path, tensors, info, METADATA_KEY)


def load(path: Path = DEFAULT_WEIGHTS) -> Weights:
    """Read and verify a weights file; any problem is a one-line CompbenchError with the fix."""
    path = Path(path)
    tensors, info = _weights_file.read(path, METADATA_KEY, "DDCAE",
                                       lambda problem: WeightsError(path, problem))
    _check(path, tensors, info)
    ends = np.cumsum(tensors["entropy.sizes"])[:-1]
    histogram = CodeHistogram(info["entropy_grid"], tensors["entropy.start"],
                              tuple(np.split(tensors["entropy.counts"], ends)))
    params = {name: a for name, a in tensors.items() if not name.startswith("entropy.")}
    return Weights(path, params, histogram, info["config"], info["sha256"])


def _check(path: Path, tensors: dict[str, np.ndarray], info: dict) -> None:
    if info.get("format") != FORMAT:
        raise WeightsError(path, f"format {info.get('format')!r}, expected {FORMAT!r}")
    if info.get("sha256") != _weights_file.digest(tensors, info):
        raise WeightsError(path, "checksum mismatch (corrupt or edited)")
    # The checksum proves the file is as written; now check it was written for this network.
    if info.get("architecture") != ARCHITECTURE:
        raise WeightsError(path, f"architecture {info.get('architecture')}, "
                                 f"expected {ARCHITECTURE}")
    expected = param_shapes() | {"entropy.start": (CODE_SIZE,), "entropy.sizes": (CODE_SIZE,)}
    for name, shape in expected.items():
        if name not in tensors or tensors[name].shape != shape:
            got = tensors[name].shape if name in tensors else "missing"
            raise WeightsError(path, f"tensor {name} is {got}, expected {shape}")
    unexpected = set(tensors) - set(expected) - {"entropy.counts"}
    if unexpected or "entropy.counts" not in tensors:
        raise WeightsError(path, f"unexpected tensors {sorted(unexpected)} or no entropy.counts")
    sizes = tensors["entropy.sizes"]
    if (sizes < 1).any() or sizes.sum() != tensors["entropy.counts"].size:
        raise WeightsError(path, "entropy model tables are inconsistent")
    grid = info.get("entropy_grid")
    if not isinstance(info.get("config"), dict) or not isinstance(grid, float) or not grid > 0:
        raise WeightsError(path, "config or entropy grid missing")

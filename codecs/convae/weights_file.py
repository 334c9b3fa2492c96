"""The weights file: every rate point of one dataset in one safetensors file, with a sha256
over all of it, checked on every load.

Per rate point ``k``: the network parameters under ``p{k}.`` (float16: the codec computes in
float32 from exactly these values, and half the bytes keep the shipped files small) and the
integer coding tables built from them under ``p{k}.code.`` (``prior.CodeTables``). The
metadata (one JSON entry) holds the architecture, the dataset, each point's lambda and the
training record.

safetensors holds only arrays and a str -> str map, so loading cannot run code (unlike a
pickle). Numpy only: checking a file (``available()``) must not import torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import _weights_file
from .prior import CodeTables

FORMAT = "compbench-convae/1"
METADATA_KEY = "compbench-convae"
WEIGHTS_DIR = Path(__file__).with_name("weights-data")
TRAIN_COMMAND = "compbench train convae"
#: the grid of latent elements: channels x 7 x 7
GRID_ELEMENTS = 7 * 7


def default_path(dataset: str) -> Path:
    return WEIGHTS_DIR / f"convae-{dataset}.safetensors"


class WeightsError(_weights_file.WeightsError):
    """A convae weights file that is missing, corrupt or not for this codec; the fix retrains
    the weights of ``dataset``."""

    def __init__(self, path: Path, problem: str, dataset: str = "mnist") -> None:
        super().__init__(path, problem, "convae", f"run `{TRAIN_COMMAND} --dataset {dataset}` to rebuild it")


@dataclass(frozen=True)
class RatePoint:
    lmbda: float
    params: dict[str, np.ndarray]  # state_dict names -> float16 arrays
    tables: CodeTables


@dataclass(frozen=True)
class Weights:
    path: Path
    dataset: str
    hidden: int
    latent: int
    points: tuple[RatePoint, ...]
    config: dict  # how it was trained (trainer settings, versions, timings, test figures)
    sha256: str  # of every tensor and metadata entry; identifies the weights in manifests


COMPONENTS = 3  # network.COMPONENTS (numpy only here)
TABLE_FIELDS = {"offset": np.float32, "live": np.int64, "low": np.int64, "sizes": np.int64,
                "counts": np.uint16}


def param_shapes(hidden: int, latent: int) -> dict[str, tuple[int, ...]]:
    """state_dict names and shapes of ``network.ConvAE(hidden, latent)``."""
    fold = 16
    convs = {"encoder.0": (hidden, fold), "encoder.2": (hidden, hidden), "encoder.4": (latent, hidden),
             "encoder_linear": (latent, fold), "decoder.0": (hidden, latent),
             "decoder.2": (hidden, hidden), "decoder.4": (fold, hidden), "decoder_linear": (fold, latent)}
    shapes: dict[str, tuple[int, ...]] = {}
    for name, (n_out, n_in) in convs.items():
        shapes[f"{name}.weight"] = (n_out, n_in, 3, 3)
        shapes[f"{name}.bias"] = (n_out,)
    for name in ("prior_means", "prior_log_scales", "prior_logits"):
        shapes[name] = (COMPONENTS, latent, 7, 7)
    return shapes


def save(path: Path, dataset: str, hidden: int, latent: int,
         points: list[tuple[float, dict[str, np.ndarray]]], config: dict) -> str:
    """Write the file atomically (a crash leaves the old file intact); returns its sha256.

    ``points``: (lambda, float32 state dict) per rate point. The coding tables are built from
    the float16-rounded parameters, the values the codec will hold. The same inputs give the
    same bytes (the metadata is one JSON entry with sorted keys)."""
    from .network import mixture_numpy  # torch: only the trainer writes weights

    tensors = {}
    for k, (_, params) in enumerate(points):
        rounded = {name: np.ascontiguousarray(array, np.float16) for name, array in params.items()}
        tensors |= {f"p{k}.{name}": array for name, array in rounded.items()}
        tables = CodeTables.build(*mixture_numpy(rounded))
        tensors |= {f"p{k}.code.{field}": getattr(tables, field) for field in TABLE_FIELDS}
    info = {"format": FORMAT, "dataset": dataset, "hidden": hidden, "latent": latent,
            "lambdas": [float(lmbda) for lmbda, _ in points], "config": config}
    return _weights_file.write(path, tensors, info, METADATA_KEY)


def load(path: Path) -> Weights:
    """Read and verify a weights file; any problem is a one-line CompbenchError with the fix."""
    path = Path(path)
    tensors, info = _weights_file.read(path, METADATA_KEY, "convae",
                                       lambda problem: WeightsError(path, problem))
    _check(path, tensors, info)
    hidden, latent = info["hidden"], info["latent"]
    points = []
    for k, lmbda in enumerate(info["lambdas"]):
        params = {name: tensors[f"p{k}.{name}"] for name in param_shapes(hidden, latent)}
        tables = CodeTables(**{field: tensors[f"p{k}.code.{field}"] for field in TABLE_FIELDS})
        points.append(RatePoint(float(lmbda), params, tables))
    return Weights(path, info["dataset"], hidden, latent, tuple(points), info["config"], info["sha256"])


def _check(path: Path, tensors: dict[str, np.ndarray], info: dict) -> None:
    dataset = info.get("dataset") if info.get("dataset") in ("mnist", "fashion-mnist") else "mnist"

    def refuse(problem: str) -> WeightsError:
        return WeightsError(path, problem, dataset)

    if info.get("format") != FORMAT:
        raise refuse(f"format {info.get('format')!r}, expected {FORMAT!r}")
    if info.get("sha256") != _weights_file.digest(tensors, info):
        raise refuse("checksum mismatch (corrupt or edited)")
    # The checksum proves the file is as written; now check it was written for this codec.
    hidden, latent, lambdas = info.get("hidden"), info.get("latent"), info.get("lambdas")
    if not (isinstance(hidden, int) and isinstance(latent, int) and hidden > 0 and latent > 0
            and isinstance(lambdas, list) and 1 <= len(lambdas) <= 16
            and isinstance(info.get("config"), dict) and info.get("dataset") == dataset):
        raise refuse("architecture, lambdas, dataset or config missing")
    expected: dict[str, tuple[int, ...]] = {}
    for k in range(len(lambdas)):
        expected |= {f"p{k}.{name}": shape for name, shape in param_shapes(hidden, latent).items()}
        expected[f"p{k}.code.offset"] = (latent * GRID_ELEMENTS,)
    for name, shape in expected.items():
        if name not in tensors or tensors[name].shape != shape:
            got = tensors[name].shape if name in tensors else "missing"
            raise refuse(f"tensor {name} is {got}, expected {shape}")
    tables = {f"p{k}.code.{field}" for k in range(len(lambdas)) for field in TABLE_FIELDS}
    unexpected = sorted(set(tensors) - set(expected) - tables)
    missing = sorted(tables - set(tensors))
    if unexpected or missing:
        raise refuse(f"unexpected tensors {unexpected[:3]} or missing {missing[:3]}")
    for k in range(len(lambdas)):
        fields = {field: tensors[f"p{k}.code.{field}"] for field in TABLE_FIELDS}
        wrong = [f for f, dtype in TABLE_FIELDS.items() if fields[f].dtype != dtype or fields[f].ndim != 1]
        problem = f"{wrong[0]} has the wrong type" if wrong else CodeTables(**fields).check()
        if problem:
            raise refuse(f"rate point {k} coding tables: {problem}")

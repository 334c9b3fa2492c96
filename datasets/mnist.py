"""MNIST from the official IDX files shipped in ``mnist-data/``, checked against their MD5s."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from compbench.dataset import DatasetAdapter, ImageSet
from compbench.errors import CompbenchError
from compbench.hookspecs import hookimpl

DATA_DIR = Path(__file__).with_name("mnist-data")

# MD5 of each *uncompressed* IDX file, as published with MNIST.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
PREFIX = {"train": "train", "test": "t10k"}
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049


def read_idx(path: Path, expected_md5: str | None, magic: int) -> np.ndarray:
    """Read a gzipped IDX file, verifying the MD5 of its uncompressed bytes."""
    fix = "reinstall compbench (pip install --force-reinstall .) or restore the file from git"
    try:
        raw = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise CompbenchError(f"MNIST file missing: {path}; {fix}") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise CompbenchError(f"MNIST file corrupt: {path} ({exc}); {fix}") from None
    if expected_md5 is not None:
        digest = hashlib.md5(raw).hexdigest()
        if digest != expected_md5:
            raise CompbenchError(
                f"MNIST checksum mismatch: {path} has md5 {digest}, expected {expected_md5}; {fix}"
            )
    header = np.frombuffer(raw[:4], dtype=">u4")[0]
    if header != magic:
        raise CompbenchError(f"MNIST file corrupt: {path} (IDX magic {header}, expected {magic}); {fix}")
    ndim = raw[3]
    dims = np.frombuffer(raw[4 : 4 + 4 * ndim], dtype=">u4").astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise CompbenchError(f"MNIST file corrupt: {path} (truncated); {fix}")
    return data.reshape(dims)


@lru_cache(maxsize=4)
def read_split(split: str, data_dir: Path = DATA_DIR, verify: bool = True) -> ImageSet:
    prefix = PREFIX[split]
    images_name, labels_name = f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"
    images = read_idx(data_dir / f"{images_name}.gz", MD5[images_name] if verify else None, IMAGE_MAGIC)
    labels = read_idx(data_dir / f"{labels_name}.gz", MD5[labels_name] if verify else None, LABEL_MAGIC)
    if len(images) != len(labels):
        raise CompbenchError(
            f"MNIST {split}: {len(images)} images but {len(labels)} labels in {data_dir}; "
            "restore the files from git"
        )
    return ImageSet(images, labels.astype(np.int64), np.arange(len(labels)))


class MnistIdx(DatasetAdapter):
    """An IDX-format digit/fashion set; MNIST is the shipped instance."""

    name = "mnist"
    description = "MNIST handwritten digits, 28x28 grayscale (official IDX files, shipped)"
    class_names = tuple(str(digit) for digit in range(10))
    splits = ("train", "test")
    default_split = "test"

    def __init__(self, data_dir: Path = DATA_DIR, verify: bool = True) -> None:
        self.data_dir = data_dir
        self.verify = verify

    def load(self, split: str) -> ImageSet:
        self.check_split(split)
        return read_split(split, self.data_dir, self.verify)

    def checksums(self, split: str) -> dict[str, str]:
        prefix = PREFIX[split]
        return {f"{prefix}-{kind}-idx{n}-ubyte": MD5[f"{prefix}-{kind}-idx{n}-ubyte"]
                for kind, n in (("images", 3), ("labels", 1))} if self.verify else {}


@hookimpl
def register_datasets(register):
    register(MnistIdx())

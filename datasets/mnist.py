"""IDX-format datasets: MNIST from the official files shipped in ``mnist-data/``, and Fashion-MNIST
from Debian's package; both checked against MD5s on load."""

from __future__ import annotations

import gzip
import hashlib
from functools import lru_cache
from pathlib import Path

import numpy as np

from compbench import AVAILABLE, Availability, CompbenchError, DatasetAdapter, ImageSet, hookimpl

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
REINSTALL = "reinstall compbench (pip install --force-reinstall .) or restore the file from git"


def read_idx(path: Path, expected_md5: str | None, magic: int, fix: str = REINSTALL) -> np.ndarray:
    """Read a gzipped IDX file, verifying the MD5 of its uncompressed bytes."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except FileNotFoundError:
        raise CompbenchError(f"dataset file missing: {path}; {fix}") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise CompbenchError(f"dataset file corrupt: {path} ({exc}); {fix}") from None
    if expected_md5 is not None:
        digest = hashlib.md5(raw).hexdigest()
        if digest != expected_md5:
            raise CompbenchError(
                f"dataset checksum mismatch: {path} has md5 {digest}, expected {expected_md5}; {fix}"
            )
    header = np.frombuffer(raw[:4], dtype=">u4")[0]
    if header != magic:
        raise CompbenchError(f"dataset file corrupt: {path} (IDX magic {header}, expected {magic}); {fix}")
    ndim = raw[3]
    dims = np.frombuffer(raw[4 : 4 + 4 * ndim], dtype=">u4").astype(int)
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise CompbenchError(f"dataset file corrupt: {path} (truncated); {fix}")
    return data.reshape(dims)


def file_names(split: str) -> tuple[str, str]:
    prefix = PREFIX[split]
    return f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"


@lru_cache(maxsize=8)
def read_split(split: str, data_dir: Path = DATA_DIR, md5: tuple[tuple[str, str], ...] | None = tuple(MD5.items()),
               fix: str = REINSTALL) -> ImageSet:
    """One split of an IDX dataset (MNIST by default); ``md5=None`` skips verification."""
    checksums = dict(md5) if md5 is not None else {}
    images_name, labels_name = file_names(split)
    images = read_idx(data_dir / f"{images_name}.gz", checksums.get(images_name), IMAGE_MAGIC, fix)
    labels = read_idx(data_dir / f"{labels_name}.gz", checksums.get(labels_name), LABEL_MAGIC, fix)
    if len(images) != len(labels):
        raise CompbenchError(f"{data_dir} {split}: {len(images)} images but {len(labels)} labels; {fix}")
    return ImageSet(images, labels.astype(np.int64), np.arange(len(labels)))


class IdxDataset(DatasetAdapter):
    """A dataset in MNIST's IDX layout (train/test, gzipped), verified against MD5s."""

    splits = ("train", "test")
    default_split = "test"
    paper_figures = True  # the paper's own datasets: its Figs. 6 and 8-10 are drawn by default

    def __init__(self, name: str, description: str, class_names: tuple[str, ...], data_dir: Path,
                 md5: dict[str, str] | None, fix: str) -> None:
        self.name, self.description, self.class_names = name, description, class_names
        self.data_dir, self.md5, self.fix = Path(data_dir), md5, fix

    def available(self) -> Availability:
        if not self.data_dir.is_dir():
            return Availability(False, f"{self.data_dir} does not exist", self.fix)
        return AVAILABLE

    def load(self, split: str) -> ImageSet:
        self.check_split(split)
        md5 = tuple(self.md5.items()) if self.md5 is not None else None
        return read_split(split, self.data_dir, md5, self.fix)

    def checksums(self, split: str) -> dict[str, str]:
        return {name: self.md5[name] for name in file_names(split)} if self.md5 else {}


def MnistIdx(data_dir: Path = DATA_DIR, verify: bool = True) -> IdxDataset:  # noqa: N802 (a named preset)
    return IdxDataset("mnist", "MNIST handwritten digits, 28x28 grayscale (official IDX files, shipped)",
                      tuple(str(digit) for digit in range(10)), data_dir, MD5 if verify else None, REINSTALL)


FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
# MD5s of the uncompressed files as Debian's dataset-fashion-mnist (0.0~git20200523) ships them
FASHION_MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")


@hookimpl
def register_datasets(register):
    register(MnistIdx())
    register(IdxDataset("fashion-mnist", "Fashion-MNIST, 28x28 grayscale clothing (Debian package)",
                        FASHION_CLASSES, FASHION_DIR, FASHION_MD5,
                        "apt-get install -y dataset-fashion-mnist"))

"""The fitted PCA basis: fitting it, storing it (.npz) and coding with it in integer arithmetic.

Results must not depend on how many images a batch holds. A float matrix product does (BLAS
sums in a different order for other shapes, and a coefficient near a rounding boundary then
quantizes differently), so the basis is stored in fixed point and every product is an exact
integer sum: the mean in 1/16 grey levels, the components in units of 2**-14.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from compbench import CompbenchError

SIDE, PIXELS = 28, 28 * 28
MEAN_SCALE = 16  # mean stored in 1/16 grey levels
BASIS_BITS = 14  # components stored in units of 2**-14 (|entries| <= 1 fit int16)
SHIPPED = Path(__file__).with_name("basis-data") / "basis.npz"
#: sha256 of the shipped file; ``compbench train pca`` with the defaults writes it again, byte for byte
SHIPPED_SHA256 = "ab218594ccb53800bbf9411f55d7d1d04df39978ee25f6ee152e2a1ba15ddda0"
FIELDS = ("mean", "components", "variance", "images")


@dataclass(frozen=True)
class Basis:
    mean: np.ndarray  # (784,) int16: pixel means * MEAN_SCALE
    components: np.ndarray  # (K, 784) int16: unit vectors * 2**BASIS_BITS, strongest first
    variance: np.ndarray  # (K,) float64: variance of each coefficient on the training images (grey levels^2)
    images: int  # how many training images it was fitted on

    def quantize(self, pixels: np.ndarray, count: int, step: int) -> np.ndarray:
        """Integer coefficients (N, count) of flattened uint8 images (N, 784)."""
        centered = pixels.astype(np.int64) * MEAN_SCALE - self.mean
        exact = centered @ self.components[:count].T.astype(np.int64)  # an exact integer sum
        return np.floor(exact / float((step * MEAN_SCALE) << BASIS_BITS) + 0.5).astype(np.int64)

    def reconstruct(self, coefficients: np.ndarray, step: int) -> np.ndarray:
        """uint8 images (N, 28, 28) from integer coefficients (N, count)."""
        count = coefficients.shape[1]
        exact = coefficients @ self.components[:count].astype(np.int64)
        pixels = self.mean / MEAN_SCALE + exact * (step / (1 << BASIS_BITS))
        return np.clip(np.round(pixels), 0, 255).astype(np.uint8).reshape(-1, SIDE, SIDE)

    def golomb_orders(self, count: int, step: int) -> list[int]:
        """Exp-Golomb order per coefficient: about log2 of its spread in quantization steps."""
        spread = np.sqrt(self.variance[:count]) / step
        return [max(0, int(np.floor(np.log2(s)))) if s > 0 else 0 for s in spread]

    def save(self, path: Path) -> str:
        """Write the .npz reproducibly (fixed zip timestamps); return its sha256."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in FIELDS:
                array = io.BytesIO()
                np.lib.format.write_array(array, np.asarray(getattr(self, name)), allow_pickle=False)
                archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)),
                                 array.getvalue(), zipfile.ZIP_DEFLATED)
        path.write_bytes(buffer.getvalue())
        return hashlib.sha256(buffer.getvalue()).hexdigest()


def fit(images: np.ndarray, count: int) -> Basis:
    """The ``count`` strongest principal components of uint8 images (N, 28, 28), by numpy SVD of
    their covariance. The pixel sums are exact (float64 holds these integer sums exactly), so
    the same images give the same basis; each component's sign is fixed (largest entry positive)."""
    pixels = images.reshape(len(images), PIXELS).astype(np.float64)
    n = len(pixels)
    mean = pixels.sum(axis=0) / n
    covariance = pixels.T @ pixels / n - np.outer(mean, mean)
    _, variance, rows = np.linalg.svd(covariance)
    rows = rows[:count]
    signs = np.sign(rows[np.arange(count), np.abs(rows).argmax(axis=1)])
    rows = rows * signs[:, None]
    return Basis(
        mean=np.round(mean * MEAN_SCALE).astype(np.int16),
        components=np.round(rows * (1 << BASIS_BITS)).astype(np.int16),
        # rounded, so that last-bit differences of the SVD (thread counts) leave the file alone
        variance=np.round(variance[:count], 3),
        images=n,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=4)
def load(path: Path = SHIPPED) -> Basis:
    """Read a basis file; the shipped one must match its checksum. CompbenchError names the file
    and the fix."""
    fix = "reinstall compbench-pca, or fit one with `compbench train pca --out DIR`"
    if not path.is_file():
        raise CompbenchError(f"pca basis {path} does not exist; {fix}")
    if path == SHIPPED and sha256(path) != SHIPPED_SHA256:
        raise CompbenchError(f"pca basis {path} has sha256 {sha256(path)}, expected {SHIPPED_SHA256}; {fix}")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in FIELDS}
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise CompbenchError(f"pca basis {path} is not a basis file ({exc}); {fix}") from None
    return Basis(arrays["mean"], arrays["components"], arrays["variance"], int(arrays["images"]))

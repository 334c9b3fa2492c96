"""The PCA codec: project a digit on the fitted components, quantize, Exp-Golomb code.

Bitstream (every byte counted in bpp): a 3-byte header (components: uint8, step: uint16) and
the coefficients' codes. The header makes it self-describing: any PCA codec instance decodes
it, whatever its own settings.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from compbench import AVAILABLE, Availability, Codec, CodecFactory, CompbenchError, Param

from . import basis as basis_file
from . import golomb

HEADER = struct.Struct("<BH")  # components, step


def as_pixels(images: Sequence[np.ndarray]) -> np.ndarray:
    """(N, 784) pixels; ValueError naming the first image that is not 28x28 uint8 gray."""
    for i, image in enumerate(images):
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.shape != (28, 28):
            got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
            raise ValueError(f"pca takes 28x28 grayscale uint8 images (MNIST); image {i} is {got}")
    return np.asarray(images, dtype=np.uint8).reshape(len(images), basis_file.PIXELS)


class PcaCodec(Codec):
    def __init__(self, fitted: basis_file.Basis, **settings) -> None:
        super().__init__(**settings)
        self.basis = fitted
        self.count, self.step = settings["components"], settings["step"]
        if self.count > len(fitted.components):
            raise CompbenchError(f"pca: components={self.count} but the basis has only "
                                 f"{len(fitted.components)}; use components<={len(fitted.components)}")

    # The batch methods do the work: one integer matrix product for the whole batch. The
    # single-image methods are batches of one, so both give the same bytes by construction.
    def encode(self, image: np.ndarray) -> bytes:
        return self.encode_batch([image])[0]

    def decode(self, data: bytes) -> np.ndarray:
        return self.decode_batch([data])[0]

    def encode_batch(self, images: Sequence[np.ndarray]) -> list[bytes]:
        coefficients = self.basis.quantize(as_pixels(images), self.count, self.step)
        header = HEADER.pack(self.count, self.step)
        orders = self.basis.golomb_orders(self.count, self.step)
        return [header + golomb.encode(row.tolist(), orders) for row in coefficients]

    def decode_batch(self, blobs: Sequence[bytes]) -> list[np.ndarray]:
        images = []
        for data in blobs:  # each bitstream says its own components and step
            count, step = HEADER.unpack_from(data)
            if not 1 <= count <= len(self.basis.components) or step < 1:
                raise ValueError(f"not a pca bitstream: header says {count} components, step {step}")
            values = golomb.decode(data[HEADER.size:], self.basis.golomb_orders(count, step))
            images.append(self.basis.reconstruct(np.array([values], dtype=np.int64), step)[0])
        return images

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        return HEADER.size


class PcaFactory(CodecFactory):
    name = "pca"
    description = ("PCA of MNIST digits (example plugin): 28x28 gray, fixed-point basis fitted on the "
                   "train split, quantized coefficients in Exp-Golomb codes")
    params = (
        Param("components", int, 32, "principal components kept (more: closer, more bits)", low=1, high=64),
        Param("step", int, 64, "quantization step of the coefficients, in grey levels", low=1, high=1024),
        Param("basis", str, None, "a basis file from `compbench train pca --out DIR` (unset: the shipped one)"),
    )
    rate_params = ("components",)
    ladder = tuple({"components": k} for k in (4, 8, 12, 16, 24, 32, 48, 64))
    channels = (1,)
    sizes = ((28, 28),)
    # for the conformance kit: its closest setting, and what that reaches on MNIST test digits
    # (20.9 dB on the first 2,000; a zero or constant image reaches about 10 dB)
    best_setting = {"components": 64, "step": 16}
    fidelity_floor = 18.0

    def available(self) -> Availability:
        try:
            basis_file.load(basis_file.SHIPPED)
        except CompbenchError as exc:
            return Availability(False, str(exc).split(";")[0],
                                "pip install --force-reinstall compbench-pca")
        return AVAILABLE

    def create(self, **settings) -> PcaCodec:
        path = settings.get("basis")
        return PcaCodec(basis_file.load(Path(path) if path else basis_file.SHIPPED), **settings)

    def library_versions(self) -> dict[str, str]:
        return {"numpy": np.__version__, "pca basis sha256": basis_file.sha256(basis_file.SHIPPED)}

"""The convae codec: analysis transform -> rounding -> range coding, and back.

Imports torch (through ``network``): loaded by the factory's ``create()`` only.

Batch independence: the transforms run in float32, on one thread, on chunks of exactly
``CHUNK`` images (the last one zero-padded), so every image goes through the same kernels
whatever the batch it came in and whatever thread count the process uses; the decoder's
entropy model is integer tables (``prior.CodeTables``), independent of any float. (One thread
is also the fast choice: these small convolutions run 1.2-4x slower on two threads here.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from .._batch_codec import BatchCodec
from . import bitstream
from .network import IMAGE_SIDE, ConvAE, from_numpy
from .prior import CodeTables
from .weights_file import Weights

SHAPE = (IMAGE_SIDE, IMAGE_SIDE)
PIXELS = IMAGE_SIDE * IMAGE_SIDE
#: images per torch call, always (zero-padded): see the module docstring
CHUNK = 128


class ConvaeCodec(BatchCodec):
    """One rate point (``point``) of one weights file. ``other_weights(dataset)`` gives the
    weights of a dataset a bitstream's header names when it is not this codec's."""

    def __init__(self, weights: Weights, other_weights: Callable[[str], Weights], /, **settings) -> None:
        super().__init__(**settings)
        self.weights = weights
        self.point = int(settings["point"])
        self._other_weights = other_weights
        self._networks: dict[tuple[str, int], ConvAE] = {}

    # -- the Codec contract -------------------------------------------------------------------

    def decode_batch(self, blobs: Sequence[bytes]) -> list[np.ndarray]:
        out: list[np.ndarray | None] = [None] * len(blobs)
        for (dataset, point), members in _group_by_header(blobs).items():
            weights = self._weights(dataset)
            if point >= len(weights.points):
                raise bitstream.BitstreamError(f"convae bitstream names rate point {point}, but the "
                                               f"{dataset} weights have {len(weights.points)}")
            tables = weights.points[point].tables
            q = np.stack([bitstream.decode_payload(bytes(blobs[i][bitstream.HEADER_BYTES:]), tables)
                          for i in members])
            images = self.reconstruct(q, dataset, point)
            for i, image in zip(members, images):
                out[i] = image
        return out  # type: ignore[return-value]

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        return bitstream.HEADER_BYTES

    def extra_metrics(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """``code_entropy``: each image's ideal code length under the model (escapes included),
        in bits per pixel, beside the real bpp (the gap is the header and the coder's ending)."""
        return {"code_entropy": self.tables.ideal_bits(self.codes_of(images)) / PIXELS}

    # -- the pieces ----------------------------------------------------------------------------

    @property
    def tables(self) -> CodeTables:
        return self.weights.points[self.point].tables

    def quantized_codes(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Integer codes (N, live) of uint8 28x28 images at this codec's rate point."""
        x = _as_input(images)
        net = self._network(self.weights.dataset, self.point)
        latents = _run(net.encode, x).reshape(len(x), -1)
        return self.tables.quantize(latents)

    def encode_codes(self, q: np.ndarray) -> list[bytes]:
        """Bitstreams for integer codes (N, live); codes beyond a table's range are escaped."""
        q = np.asarray(q, np.int64)
        if q.ndim != 2 or q.shape[1] != self.tables.live.size or (np.abs(q) >= 2**31).any():
            raise ValueError(f"expected integer codes (N, {self.tables.live.size}) with |value| < 2**31, "
                             f"got shape {q.shape}")
        symbols, escaped = self.tables.symbols(q)
        symbols = symbols.astype(np.int32)
        escape_values = self.tables.escape_values(q)
        no_escape = np.zeros(0, np.int64)
        header = bitstream.pack_header(self.weights.dataset, self.point)
        return [header + bitstream.encode_payload(
                    symbols[i], escape_values[i][escaped[i]] if escaped[i].any() else no_escape, self.tables)
                for i in range(len(q))]

    def reconstruct(self, q: np.ndarray, dataset: str | None = None, point: int | None = None) -> np.ndarray:
        """uint8 images (N, 28, 28) from integer codes (N, live) of a rate point (default: this
        codec's)."""
        dataset = self.weights.dataset if dataset is None else dataset
        point = self.point if point is None else point
        weights = self._weights(dataset)
        net = self._network(dataset, point)
        latents = weights.points[point].tables.dequantize(q).reshape(len(q), weights.latent, 7, 7)
        y = _run(net.decode, torch.from_numpy(latents))
        return np.clip(np.rint(y[:, 0] * 255), 0, 255).astype(np.uint8)

    def _weights(self, dataset: str) -> Weights:
        return self.weights if dataset == self.weights.dataset else self._other_weights(dataset)

    def _network(self, dataset: str, point: int) -> ConvAE:
        if (dataset, point) not in self._networks:
            weights = self._weights(dataset)
            self._networks[dataset, point] = from_numpy(weights.points[point].params,
                                                        weights.hidden, weights.latent)
        return self._networks[dataset, point]


def _group_by_header(blobs: Sequence[bytes]) -> dict[tuple[str, int], list[int]]:
    groups: dict[tuple[str, int], list[int]] = {}
    for i, data in enumerate(blobs):
        groups.setdefault(bitstream.unpack_header(bytes(data[: bitstream.HEADER_BYTES])), []).append(i)
    return groups


def _run(net: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> np.ndarray:
    """net(x) in float32, CHUNK images per call whatever len(x): the same kernels for every image."""
    outputs = []
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():  # max(.., 1): no images still give a (0, ...) array
            for start in range(0, max(len(x), 1), CHUNK):
                chunk = x[start : start + CHUNK]
                padded = torch.cat([chunk, chunk.new_zeros((CHUNK - len(chunk), *chunk.shape[1:]))])
                outputs.append(net(padded)[: len(chunk)])
    finally:
        torch.set_num_threads(threads)
    return torch.cat(outputs).numpy()


def _as_input(images: Sequence[np.ndarray]) -> torch.Tensor:
    """(N, 1, 28, 28) float32 in [0, 1]; ValueError naming the first image that is not 28x28 uint8."""
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.shape != SHAPE:
            raise ValueError(f"convae takes 28x28 grayscale uint8 images; image {i} is "
                             f"{image.dtype} with shape {image.shape}")
    stacked = np.asarray(images, np.uint8).reshape(-1, 1, *SHAPE)
    return torch.from_numpy(stacked.astype(np.float32) / 255)

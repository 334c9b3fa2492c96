"""The DDCAE codec: encoder network -> uniform quantization -> range coding, and back.

Imports torch (through ``model``): loaded by the factory's ``create()`` only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from .._batch_codec import BatchCodec
from . import bitstream
from .entropy import StepTable
from .model import from_numpy
from .weights_file import CODE_SIZE, PIXELS, Weights

SHAPE = (28, 28)
#: images per torch forward: bounds memory on large sets, big enough to amortize the call
CHUNK = 4096


class DdcaeCodec(BatchCodec):
    """``step`` is the quantization step of the 64 code values (larger: fewer bits). It is
    used as the nearest step the 2-byte header can name (within 0.14%): see ``self.step``."""

    def __init__(self, loaded: Weights, /, **settings) -> None:
        super().__init__(**settings)
        self.loaded = loaded
        self._model = from_numpy(loaded.params, torch.float64)  # float64: see from_numpy
        self._step_code = bitstream.step_code(settings["step"])
        self.step = bitstream.step_from_code(self._step_code)
        self._tables: dict[int, StepTable] = {}

    def table(self, code: int) -> StepTable:
        """The entropy model for a step code (cached: the decoder meets the header's step)."""
        if code not in self._tables:
            self._tables[code] = self.loaded.histogram.table(bitstream.step_from_code(code))
        return self._tables[code]

    # -- the Codec contract -------------------------------------------------------------------

    def decode_batch(self, blobs: Sequence[bytes]) -> list[np.ndarray]:
        q, steps = self.decode_codes(blobs)
        return list(self.reconstruct(q * steps[:, None]))

    def encode_codes(self, q: np.ndarray) -> list[bytes]:
        """Bitstreams for integer codes (N, 64) at this codec's step. Any integer codes go:
        those outside the fitted range take the escape path."""
        q = np.asarray(q, np.int64)
        if q.ndim != 2 or q.shape[1] != CODE_SIZE or (np.abs(q) >= 2**31).any():
            raise ValueError(f"expected integer codes (N, {CODE_SIZE}) with |value| < 2**31, "
                             f"got shape {q.shape}")
        table = self.table(self._step_code)
        symbols, escaped = table.symbols(q)
        escape_values = table.escape_values(q)
        header = bitstream.pack_header(self._step_code)
        return [
            header + bitstream.encode_payload(symbols[i], escape_values[i][escaped[i]], table)
            for i in range(len(q))
        ]

    def decode_codes(self, blobs: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray]:
        """The integer codes (N, 64) and the step of each bitstream (from its header)."""
        q = np.empty((len(blobs), CODE_SIZE), np.int64)
        steps = np.empty(len(blobs))
        for i, data in enumerate(blobs):
            table = self.table(bitstream.unpack_header(data))
            q[i] = bitstream.decode_payload(bytes(data[bitstream.HEADER_BYTES :]), table)
            steps[i] = table.step
        return q, steps

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        return bitstream.HEADER_BYTES

    def extra_metrics(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """``code_entropy``: each image's ideal code length under the model (escapes included),
        in bits per pixel, to set beside the real bpp (the gap is the header and coder cost)."""
        table = self.table(self._step_code)
        return {"code_entropy": table.ideal_bits(self.codes_of(images)) / PIXELS}

    def figure_panels(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """The paper's Fig. 6 columns: the noisy input as in training (the codec itself codes
        the clean image) and the 8x8 code, dequantized; compbench adds the reconstruction."""
        sigma = float(self.loaded.config.get("trainer", {}).get("noise", 10.0))
        rng = np.random.default_rng(0)  # fixed: the same figure every run
        noisy = np.clip(np.rint(images + rng.normal(0.0, sigma, images.shape)), 0, 255)
        return {f"noisy input (sigma {sigma:g})": noisy.astype(np.uint8),
                "code (8x8)": (self.quantized_codes(images) * self.step).reshape(-1, 8, 8)}

    # -- the network ---------------------------------------------------------------------------

    def quantized_codes(self, images: Sequence[np.ndarray]) -> np.ndarray:
        """Integer codes (N, 64) of uint8 28x28 images."""
        z = _forward(self._model.encoder, _as_input(images))
        return self.table(self._step_code).quantize(z)

    def reconstruct(self, codes: np.ndarray) -> np.ndarray:
        """uint8 images (N, 28, 28) from dequantized codes (N, 64)."""
        y = _forward(self._model.decoder, torch.from_numpy(np.asarray(codes, np.float64)))
        return np.clip(np.rint(y * 255), 0, 255).astype(np.uint8).reshape(-1, *SHAPE)


def _forward(net: torch.nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():  # split(): an empty batch gives one empty chunk, which works
        return torch.cat([net(chunk) for chunk in x.split(CHUNK)]).numpy()


def _as_input(images: Sequence[np.ndarray]) -> torch.Tensor:
    """(N, 784) float64 in [0, 1]; ValueError naming the first image that is not 28x28 uint8."""
    for i, image in enumerate(images):
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.shape != SHAPE:
            raise ValueError(
                f"DDCAE takes 28x28 grayscale uint8 images (MNIST); image {i} is "
                f"{image.dtype} with shape {image.shape}"
            )
    stacked = np.asarray(images, np.uint8).reshape(-1, PIXELS)  # (0, 784) for no images
    return torch.from_numpy(stacked.astype(np.float64) / 255)

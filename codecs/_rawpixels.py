"""Raw pixels behind a shape header: the base of the ``none`` pass-through and of general-purpose
compressors (zstd) that see the pixels as plain bytes.

The header makes the bytes self-describing and is counted in bpp: H and W as LEB128 varints
(one byte up to 127, two up to 16383), then the channel count in one byte (1 for an (H, W) gray
image). A 28x28 digit costs 3 bytes, a 512x512 RGB photograph 5.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from compbench import Codec

from ._imaging import as_library_image


@lru_cache(maxsize=256)
def shape_header(shape: tuple[int, ...]) -> bytes:
    height, width = shape[:2]
    channels = shape[2] if len(shape) == 3 else 1
    if not 1 <= channels <= 255:
        raise ValueError(f"cannot store {channels} channels in the one-byte header; expected 1..255")
    return _varint(height) + _varint(width) + bytes([channels])


def read_shape_header(data: bytes) -> tuple[tuple[int, ...], int]:
    """The image shape and where the pixels start."""
    height, at = _read_varint(data, 0)
    width, at = _read_varint(data, at)
    if at >= len(data):
        raise ValueError("truncated raw-pixel header: no channel byte")
    channels = data[at]
    return ((height, width) if channels == 1 else (height, width, channels)), at + 1


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data):
            raise ValueError("truncated raw-pixel header")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


class RawPixelsCodec(Codec):
    """Header, then the pixel bytes in row-major (H, W, C) order through :meth:`pack`."""

    def pack(self, pixels: bytes) -> bytes:
        return pixels

    def unpack(self, payload: memoryview) -> bytes | memoryview:
        return payload

    def encode(self, image: np.ndarray) -> bytes:
        image = as_library_image(image)
        return shape_header(image.shape) + self.pack(image.tobytes())

    def decode(self, data: bytes) -> np.ndarray:
        shape, start = read_shape_header(data)
        pixels = self.unpack(memoryview(data)[start:])
        # a view of the bytes, no copy: the pass-through must cost next to nothing
        return np.frombuffer(pixels, np.uint8).reshape(shape)

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        return len(shape_header(tuple(shape)))

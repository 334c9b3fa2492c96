"""The convae bitstream: a 1-byte header, then one range-coded payload (constriction).

Header byte: ``version << 5 | dataset << 4 | point``: the format version (3 bits), which
weights (0 MNIST, 1 Fashion-MNIST) and the rate point (0-15) in them. The version implies the
rest: a 28x28 gray image, a 7x7 latent grid, this payload layout.

Payload: the coded latent elements' symbols (``prior.CodeTables``) under their integer tables, then
the escape values of escaped elements, in order, as Elias-gamma codes of ``value + 1`` in
equiprobable bits.

The payload's coding and its cut-short ending are shared with ddcae (``_range_coding``).
"""

from __future__ import annotations

import numpy as np

from .. import _range_coding as coding
from .prior import CodeTables

VERSION = 1
HEADER_BYTES = 1
DATASETS = ("mnist", "fashion-mnist")
MAX_POINTS = 16


class BitstreamError(ValueError):
    """Bytes that are not a convae bitstream this decoder can read (one line, says why)."""


def pack_header(dataset: str, point: int) -> bytes:
    if not 0 <= point < MAX_POINTS:
        raise ValueError(f"rate point {point} does not fit the header (0..{MAX_POINTS - 1})")
    return bytes([VERSION << 5 | DATASETS.index(dataset) << 4 | point])


def unpack_header(data: bytes) -> tuple[str, int]:
    """(dataset, point) of a bitstream; BitstreamError if it is not one of this version."""
    if len(data) < HEADER_BYTES:
        raise BitstreamError("convae bitstream is empty: the header alone is 1 byte")
    version = data[0] >> 5
    if version != VERSION:
        raise BitstreamError(f"not a convae bitstream of format version {VERSION} "
                             f"(header says {version})")
    return DATASETS[(data[0] >> 4) & 1], data[0] & (MAX_POINTS - 1)


def encode_payload(symbols: np.ndarray, escape_values: np.ndarray, tables: CodeTables) -> bytes:
    """Range-code one image's symbols (live,) int32 and the values of its escaped elements."""
    encoder = coding.encoder()
    for start, end, rows in tables.segments:
        encoder.encode(np.asarray(symbols[start:end], np.int32), coding.CATEGORICAL, rows)
    return coding.finish(encoder, escape_values)


def decode_payload(payload: bytes, tables: CodeTables) -> np.ndarray:
    """One image's integer codes (live,); BitstreamError if the payload cannot be valid."""
    if not tables.live.size:
        return np.zeros(0, np.int64)
    decoder = coding.decoder(payload)
    symbols = np.concatenate([decoder.decode(coding.CATEGORICAL, rows)
                              for _, _, rows in tables.segments]).astype(np.int64)
    if (symbols > tables.sizes).any():
        raise _corrupt("a symbol decodes to table padding")
    return coding.codes(decoder, symbols, tables, _corrupt)


def _corrupt(reason: str) -> BitstreamError:
    return BitstreamError(f"corrupt convae bitstream: {reason}")

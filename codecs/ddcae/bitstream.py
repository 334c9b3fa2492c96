"""The DDCAE bitstream: a 2-byte header, then one range-coded payload (constriction).

Header: one big-endian 16-bit word, ``version << 12 | step_code``: the step is
``2 ** ((step_code - 2048) / 256)`` (rounded to a multiple of 2**-24), so a requested step is
used within 0.14%, powers of two exactly. The format version implies the rest: 28x28 images,
the 64-value code, this payload layout.

Payload: the 64 code symbols under the per-dimension tables, then, for each escaped dimension
in order, its escape value (see ``StepTable.escape_values``) as an Elias-gamma code of
``value + 1`` in equiprobable bits.

The payload's coding and its cut-short ending are shared with convae (``_range_coding``).
"""

from __future__ import annotations

import numpy as np

from .. import _range_coding as coding
from .entropy import StepTable

VERSION = 1
HEADER_BYTES = 2
STEP_CODE_BITS = 12
STEP_LEVELS_PER_OCTAVE = 256
_STEP_CODE_ZERO = 1 << (STEP_CODE_BITS - 1)  # code of step 1.0
_STEP_SCALE = float(1 << 24)


def step_code(step: float) -> int:
    """The header code of the representable step nearest to ``step`` (on a log scale)."""
    code = _STEP_CODE_ZERO + round(float(np.log2(step)) * STEP_LEVELS_PER_OCTAVE)
    if not 0 <= code < 1 << STEP_CODE_BITS:
        raise ValueError(f"step {step} is outside the representable range")
    return code


def step_from_code(code: int) -> float:
    """The step a header code names, rounded to a multiple of 2**-24: pow() may differ by an
    ulp between C libraries, the rounded value does not, so every decoder sees the same step."""
    exact = 2.0 ** ((code - _STEP_CODE_ZERO) / STEP_LEVELS_PER_OCTAVE)
    return round(exact * _STEP_SCALE) / _STEP_SCALE


def pack_header(code: int) -> bytes:
    return ((VERSION << STEP_CODE_BITS) | code).to_bytes(HEADER_BYTES, "big")


def unpack_header(data: bytes) -> int:
    """The step code; ValueError if the bytes are not a DDCAE bitstream of this version."""
    if len(data) < HEADER_BYTES:
        raise ValueError(f"DDCAE bitstream too short: {len(data)} bytes, "
                         f"the header alone is {HEADER_BYTES}")
    word = int.from_bytes(data[:HEADER_BYTES], "big")
    version = word >> STEP_CODE_BITS
    if version != VERSION:
        raise ValueError(f"not a DDCAE bitstream of format version {VERSION} "
                         f"(header says {version})")
    return word & ((1 << STEP_CODE_BITS) - 1)


def encode_payload(symbols: np.ndarray, escape_values: np.ndarray, table: StepTable) -> bytes:
    """Range-code one image's symbols (D,) and the values of its escaped dimensions."""
    encoder = coding.encoder()
    encoder.encode(symbols.astype(np.int32), coding.CATEGORICAL, table.weights32)
    return coding.finish(encoder, escape_values)


def decode_payload(payload: bytes, table: StepTable) -> np.ndarray:
    """The integer codes (D,) of one image; ValueError if the payload cannot be valid."""
    decoder = coding.decoder(payload)
    symbols = decoder.decode(coding.CATEGORICAL, table.weights32).astype(np.int64)
    if (symbols > table.sizes).any():
        raise _corrupt("a symbol decodes to padding")
    return coding.codes(decoder, symbols, table, _corrupt)


def _corrupt(reason: str) -> ValueError:
    return ValueError(f"corrupt DDCAE bitstream: {reason}")

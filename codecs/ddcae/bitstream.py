"""The DDCAE bitstream: a 2-byte header, then one range-coded payload (constriction).

Header: one big-endian 16-bit word, ``version << 12 | step_code``: the step is
``2 ** ((step_code - 2048) / 256)`` (rounded to a multiple of 2**-24), so a requested step is
used within 0.14%, powers of two exactly. The format version implies the rest: 28x28 images,
the 64-value code, this payload layout.

Payload: the 64 code symbols under the per-dimension tables, then, for each escaped dimension
in order, its escape value (see ``StepTable.escape_values``) as an Elias-gamma code of
``value + 1`` in equiprobable bits.

constriction's encoder ends a message with one or two whole 32-bit words, up to 8 bytes of
which a 15-30 byte image does not need. We keep its arithmetic and cut only the ending: the
message is the interval ``[low, low + range)`` of the big-endian number the stream spells,
and any number in it decodes the same. We send the shortest byte string that, padded with
zero bytes, lies in that interval: constriction's decoder reads zeros past the end of its
data (documented: decoding "cannot fail" on an exhausted coder), so the padding is implied.
"""

from __future__ import annotations

import constriction
import numpy as np

from .entropy import StepTable

VERSION = 1
HEADER_BYTES = 2
STEP_CODE_BITS = 12
STEP_LEVELS_PER_OCTAVE = 256
_STEP_CODE_ZERO = 1 << (STEP_CODE_BITS - 1)  # code of step 1.0
_STEP_SCALE = float(1 << 24)
#: an escape value needs at most 33 gamma zeros (|code| < 2**31); more means corrupt data
_MAX_GAMMA_ZEROS = 40

_CATEGORICAL = constriction.stream.model.Categorical(perfect=False)
_BIT = constriction.stream.model.Uniform(2)


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
    encoder = constriction.stream.queue.RangeEncoder()
    encoder.encode(symbols.astype(np.int32), _CATEGORICAL, table.weights32)
    if len(escape_values):
        encoder.encode(_gamma_bits(escape_values), _BIT)
    return _shortest_ending(encoder)


def decode_payload(payload: bytes, table: StepTable) -> np.ndarray:
    """The integer codes (D,) of one image; ValueError if the payload cannot be valid."""
    padded = payload + bytes(-len(payload) % 4)
    words = np.frombuffer(padded, ">u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    symbols = decoder.decode(_CATEGORICAL, table.weights32).astype(np.int64)
    if (symbols > table.sizes).any():
        raise ValueError("corrupt DDCAE bitstream: a symbol decodes to padding")
    q = symbols + table.low
    for dim in np.flatnonzero(symbols == table.sizes):
        q[dim] = table.from_escape_value(int(dim), _read_gamma(decoder))
    return q


def _gamma_bits(values: np.ndarray) -> np.ndarray:
    bits: list[int] = []
    for value in values:
        g = int(value) + 1
        bits += [0] * (g.bit_length() - 1) + [int(b) for b in bin(g)[2:]]
    return np.array(bits, np.int32)


def _read_gamma(decoder) -> int:
    zeros = 0
    while decoder.decode(_BIT) == 0:
        zeros += 1
        if zeros > _MAX_GAMMA_ZEROS:
            raise ValueError("corrupt DDCAE bitstream: escape value too long")
    g = 1
    for bit in decoder.decode(_BIT, zeros) if zeros else ():
        g = (g << 1) | int(bit)
    return g - 1


def _shortest_ending(encoder) -> bytes:
    """The shortest byte string that constriction's decoder reads as this message."""
    words = encoder.get_compressed()  # sealed by constriction: spells a number in the interval
    position, (lower, width) = encoder.pos()
    n = position + 2  # the 64-bit state `lower` covers words position and position + 1
    assert n - 1 <= len(words) <= n, (len(words), position)
    total = 4 * n
    sealed = int.from_bytes(words.astype(">u4").tobytes(), "big") << (32 * (n - len(words)))
    low = sealed - ((sealed - lower) % (1 << 64))  # the interval's start, carries included
    for keep in range(total + 1):
        unit = 1 << (8 * (total - keep))
        candidate = -(-low // unit) * unit  # the smallest multiple of unit >= low
        if candidate < low + width and candidate < 1 << (8 * total):
            return candidate.to_bytes(total, "big")[:keep]
    raise AssertionError("unreachable: the sealed stream itself lies in the interval")

"""The convae bitstream: a 1-byte header, then one range-coded payload (constriction).

Header byte: ``version << 5 | dataset << 4 | point``: the format version (3 bits), which
weights (0 MNIST, 1 Fashion-MNIST) and the rate point (0-15) in them. The version implies the
rest: a 28x28 gray image, a 7x7 latent grid, this payload layout.

Payload: the coded latent elements' symbols (``prior.CodeTables``) under their integer tables, then
the escape values of escaped elements, in order, as Elias-gamma codes of ``value + 1`` in
equiprobable bits.

constriction's encoder ends a message with whole 32-bit words, several bytes of which a short
message does not need. The arithmetic is kept and only the ending cut: the message is the
interval ``[low, low + range)`` of the big-endian number the stream spells, any number in it
decodes the same, and we send the shortest byte string that, padded with zero bytes, lies in
it. constriction's decoder reads zeros past the end of its data (an exhausted coder "cannot
fail"), so the padding is implied.
"""

from __future__ import annotations

import constriction
import numpy as np

from .prior import CodeTables

VERSION = 1
HEADER_BYTES = 1
DATASETS = ("mnist", "fashion-mnist")
MAX_POINTS = 16
#: an escape value needs at most 33 gamma zeros (|code| < 2**31); more means corrupt data
_MAX_GAMMA_ZEROS = 40

_CATEGORICAL = constriction.stream.model.Categorical(perfect=False)
_BIT = constriction.stream.model.Uniform(2)


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
    encoder = constriction.stream.queue.RangeEncoder()
    for start, end, rows in tables.segments:
        encoder.encode(np.asarray(symbols[start:end], np.int32), _CATEGORICAL, rows)
    if len(escape_values):
        encoder.encode(_gamma_bits(escape_values), _BIT)
    return _shortest_ending(encoder)


def decode_payload(payload: bytes, tables: CodeTables) -> np.ndarray:
    """One image's integer codes (live,); BitstreamError if the payload cannot be valid."""
    if not tables.live.size:
        return np.zeros(0, np.int64)
    words = np.frombuffer(payload + bytes(-len(payload) % 4), ">u4").astype(np.uint32)
    decoder = constriction.stream.queue.RangeDecoder(words)
    symbols = np.concatenate([decoder.decode(_CATEGORICAL, rows) for _, _, rows in tables.segments]).astype(np.int64)
    if (symbols > tables.sizes).any():
        raise BitstreamError("corrupt convae bitstream: a symbol decodes to table padding")
    q = symbols + tables.low
    for position in np.flatnonzero(symbols == tables.sizes):
        q[position] = tables.from_escape_value(int(position), _read_gamma(decoder))
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
            raise BitstreamError("corrupt convae bitstream: escape value too long")
    g = 1
    for bit in decoder.decode(_BIT, zeros) if zeros else ():
        g = (g << 1) | int(bit)
    return g - 1


def _shortest_ending(encoder) -> bytes:
    """The shortest byte string that constriction's decoder reads as this message."""
    words = encoder.get_compressed()  # sealed: spells a number inside the final interval
    position, (lower, width) = encoder.pos()
    n = position + 2  # the 64-bit state `lower` covers words position and position + 1
    total = 4 * n
    sealed = int.from_bytes(words.astype(">u4").tobytes(), "big") << (32 * (n - len(words)))
    low = sealed - ((sealed - lower) % (1 << 64))  # the interval's start, carries included
    high = min(low + width, 1 << (8 * total)) - 1  # its last number that fits in total bytes
    low_bytes, high_bytes = low.to_bytes(total, "big"), high.to_bytes(total, "big")
    # Up to the first byte where low and high differ, a shorter string can only be low itself
    # with its zero bytes dropped; past it, the shortest is the first prefix whose round-up
    # (the prefix, plus one unless low continues with zeros) still lies at or below high.
    common = next((i for i in range(total) if low_bytes[i] != high_bytes[i]), total)
    stripped = len(low_bytes.rstrip(b"\0"))
    if stripped <= common:
        return low_bytes[:stripped]
    for keep in range(common + 1, total + 1):
        unit = 1 << (8 * (total - keep))
        candidate = -(-low // unit) * unit  # the smallest multiple of unit >= low
        if candidate <= high:
            return candidate.to_bytes(total, "big")[:keep]
    raise AssertionError("unreachable: low itself lies in the interval")

"""The range-coded payload both learned codecs share (constriction): symbols under integer
tables, then the escaped values as Elias-gamma codes, then the shortest ending.

A table (ddcae's ``StepTable``, convae's ``CodeTables``) gives each coded element a symbol
range ``low .. low + sizes - 1`` and one escape symbol ``sizes``; an escaped element's value
follows the symbols as an Elias-gamma code of ``value + 1`` in equiprobable bits, mapped back
by ``table.from_escape_value(element, value)``.

constriction's encoder ends a message with one or two whole 32-bit words, several bytes of
which a short message does not need. The arithmetic is kept and only the ending cut: the
message is the interval ``[low, low + range)`` of the big-endian number the stream spells, any
number in it decodes the same, and we send the shortest byte string that, padded with zero
bytes, lies in it. constriction's decoder reads zeros past the end of its data (documented:
decoding "cannot fail" on an exhausted coder), so the padding is implied.

Corrupt input raises the codec's own error: it passes ``corrupt``, which turns a reason into
its exception.
"""

from __future__ import annotations

from collections.abc import Callable

import constriction
import numpy as np

CATEGORICAL = constriction.stream.model.Categorical(perfect=False)
BIT = constriction.stream.model.Uniform(2)
#: an escape value needs at most 33 gamma zeros (|code| < 2**31); more means corrupt data
MAX_GAMMA_ZEROS = 40


def encoder():
    """An empty range encoder: code the symbols into it, then :func:`finish` it."""
    return constriction.stream.queue.RangeEncoder()


def finish(encoder, escape_values: np.ndarray) -> bytes:
    """The payload: what ``encoder`` holds (the symbols), then the escape values, cut short."""
    if len(escape_values):
        encoder.encode(gamma_bits(escape_values), BIT)
    return shortest_ending(encoder)


def decoder(payload: bytes):
    """A range decoder over a payload whose zero padding to whole words was cut off."""
    words = np.frombuffer(payload + bytes(-len(payload) % 4), ">u4").astype(np.uint32)
    return constriction.stream.queue.RangeDecoder(words)


def codes(decoder, symbols: np.ndarray, table, corrupt: Callable[[str], Exception]) -> np.ndarray:
    """The integer codes of decoded symbols (int64, no symbol above the escape): ``low + symbol``,
    and each escaped element's value read from the gamma codes after the symbols."""
    q = symbols + table.low
    for element in np.flatnonzero(symbols == table.sizes):
        q[element] = table.from_escape_value(int(element), read_gamma(decoder, corrupt))
    return q


def gamma_bits(values: np.ndarray) -> np.ndarray:
    """Elias-gamma codes of ``values + 1`` as one int32 array of bits."""
    bits: list[int] = []
    for value in values:
        g = int(value) + 1
        bits += [0] * (g.bit_length() - 1) + [int(b) for b in bin(g)[2:]]
    return np.array(bits, np.int32)


def read_gamma(decoder, corrupt: Callable[[str], Exception]) -> int:
    zeros = 0
    while decoder.decode(BIT) == 0:
        zeros += 1
        if zeros > MAX_GAMMA_ZEROS:
            raise corrupt("escape value too long")
    g = 1
    for bit in decoder.decode(BIT, zeros) if zeros else ():
        g = (g << 1) | int(bit)
    return g - 1


def shortest_ending(encoder) -> bytes:
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

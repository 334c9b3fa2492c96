"""The entropy model the coder uses: integer probability tables, the same bits on every machine.

Training learns, per latent element (channel, row, column), a mixture of Gaussians
(``network``). When the weights are written, each element's mixture is turned once, in
float64, into an integer table over the quantized values it can take (``CodeTables.build``);
the tables are stored in the weights file, and the coder only ever reads them. The decoder
never evaluates a float function to rebuild a probability, so what it decodes cannot depend
on the batch, the process or the machine.

Quantization: ``q = round(y - offset)`` per element, with the offset the mean of the element's
heaviest mixture component, and ``y_hat = q + offset``. An element whose mixture puts all but
``DEAD_MASS`` of its mass on ``q = 0`` is one the model has switched off: it is not coded at
all, both sides use ``y_hat = offset``. A value outside its table's range is coded as the
escape symbol followed by how far outside it lies (``escape_values``) as an Elias-gamma code in
equiprobable bits.

Numpy only: no torch here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: the integer tables of live elements sum to 2**PRECISION
PRECISION = 16
#: an element with P(q != 0) below this is switched off (it would cost < 0.0002 bits)
DEAD_MASS = 1e-4
#: a table covers each component (weight above COMPONENT_FLOOR) to this many scales each side
TAIL_SCALES = 6.0
COMPONENT_FLOOR = 1e-4
#: the widest table, in symbols (a wider mixture is cut; the escape codes what lies beyond)
MAX_SYMBOLS = 1024


@dataclass(frozen=True)
class CodeTables:
    """One rate point's coding model over E latent elements (channel-major flattening)."""

    offset: np.ndarray  # (E,) float32: quantization offset, and the value of a dead element
    live: np.ndarray  # (L,) int64: the coded elements, in coding order (narrowest table first)
    low: np.ndarray  # (L,) int64: symbol s of live element i stands for q = low[i] + s
    sizes: np.ndarray  # (L,) int64: in-range symbols; symbol sizes[i] is the escape
    counts: np.ndarray  # concatenated integer tables (sizes[i] + 1 counts each), uint16

    @classmethod
    def build(cls, means: np.ndarray, scales: np.ndarray, weights: np.ndarray) -> CodeTables:
        """Tables from the mixtures' parameters, (K, E) each (weights summing to 1 over K)."""
        means, scales, weights = (np.asarray(a, np.float64) for a in (means, scales, weights))
        heaviest = weights.argmax(axis=0)
        offset = means[heaviest, np.arange(means.shape[1])].astype(np.float32)
        live, lows, sizes, counts = [], [], [], []
        for e in range(means.shape[1]):
            centre = float(offset[e])
            used = weights[:, e] > COMPONENT_FLOOR
            lo = math.floor(min(means[used, e] - TAIL_SCALES * scales[used, e]) - centre)
            hi = math.ceil(max(means[used, e] + TAIL_SCALES * scales[used, e]) - centre)
            lo, hi = min(lo, -1), max(hi, 1)
            if hi - lo + 1 > MAX_SYMBOLS:  # keep the table around the offset
                lo, hi = max(lo, -MAX_SYMBOLS // 2), min(hi, MAX_SYMBOLS // 2 - 1)
            q = np.arange(lo, hi + 1) + centre
            mass = _mixture_cdf(q + 0.5, means[:, e], scales[:, e], weights[:, e]) \
                - _mixture_cdf(q - 0.5, means[:, e], scales[:, e], weights[:, e])
            if mass[-lo] > 1 - DEAD_MASS:
                continue
            escape = max(0.0, 1.0 - mass.sum())
            live.append(e)
            lows.append(lo)
            sizes.append(len(mass))
            counts.append(_quantize(np.append(mass, escape)))
        # code narrow tables first: ``segments`` then pads each run of similar widths alone
        order = sorted(range(len(live)), key=lambda i: (sizes[i], live[i]))
        return cls(offset, np.array(live, np.int64)[order], np.array(lows, np.int64)[order],
                   np.array(sizes, np.int64)[order],
                   np.concatenate([counts[i] for i in order]).astype(np.uint16) if counts else np.zeros(0, np.uint16))

    def check(self) -> str | None:
        """What is inconsistent in tables read from a file, or None."""
        if self.live.size and (len(np.unique(self.live)) != self.live.size or self.live.min() < 0
                               or self.live.max() >= self.offset.size):
            return "live elements repeated or out of range"
        if len(self.low) != self.live.size or len(self.sizes) != self.live.size or (self.sizes < 1).any():
            return "table bounds inconsistent"
        if self.counts.size != (self.sizes + 1).sum() or (self.counts < 1).any():
            return "table counts inconsistent"
        return None

    @cached_property
    def probabilities(self) -> np.ndarray:
        """(L, width) float32 rows: the integer counts (exact in float32), zero past each row's
        escape symbol (padding, never coded)."""
        width = int(self.sizes.max()) + 1 if self.live.size else 1
        rows = np.zeros((self.live.size, width), np.float32)
        starts = np.concatenate([[0], np.cumsum(self.sizes + 1)])
        for i, size in enumerate(self.sizes):
            rows[i, : size + 1] = self.counts[starts[i] : starts[i + 1]]
        return rows

    @cached_property
    def segments(self) -> tuple[tuple[int, int, np.ndarray], ...]:
        """The coding order cut into runs whose widths share a power-of-two class, each as
        (start, end, rows padded to the run's widest): constriction's cost per symbol grows
        with the row width, so one matrix padded to the widest table would cost up to 4x."""
        classes = np.ceil(np.log2(self.sizes + 1)).astype(np.int64)
        cuts = [0, *(np.flatnonzero(np.diff(classes)) + 1), self.live.size]
        return tuple((int(a), int(b), np.ascontiguousarray(self.probabilities[a:b, : int(self.sizes[a:b].max()) + 1]))
                     for a, b in zip(cuts[:-1], cuts[1:]) if b > a)

    @cached_property
    def _bits(self) -> np.ndarray:
        """-log2 p of every cell of ``probabilities`` (inf on the padding)."""
        with np.errstate(divide="ignore"):
            return -np.log2(self.probabilities / self.probabilities.sum(axis=1, keepdims=True))

    def quantize(self, latents: np.ndarray) -> np.ndarray:
        """Integer codes (N, L) of latents (N, E): round(y - offset) half to even."""
        y = np.asarray(latents, np.float32)[:, self.live]
        return np.rint(y - self.offset[self.live]).astype(np.int64)

    def dequantize(self, q: np.ndarray) -> np.ndarray:
        """Latents (N, E) float32 from integer codes (N, L): the offset where nothing is coded."""
        y = np.broadcast_to(self.offset, (len(q), self.offset.size)).copy()
        y[:, self.live] += np.asarray(q, np.float32)
        return y

    def symbols(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Table symbols of integer codes (N, L), and the mask of escaped codes."""
        offset = q - self.low
        escaped = (offset < 0) | (offset >= self.sizes)
        return np.where(escaped, self.sizes, offset), escaped

    def escape_values(self, q: np.ndarray) -> np.ndarray:
        """How far outside its range each code lies: 0, 2, 4 ... above, 1, 3, 5 ... below."""
        above = q - (self.low + self.sizes)
        below = self.low - 1 - q
        return np.where(above >= 0, 2 * above, np.where(below >= 0, 2 * below + 1, 0))

    def from_escape_value(self, position: int, value: int) -> int:
        high = int(self.low[position] + self.sizes[position] - 1)
        return high + 1 + value // 2 if value % 2 == 0 else int(self.low[position]) - 1 - value // 2

    def ideal_bits(self, q: np.ndarray) -> np.ndarray:
        """Each image's ideal code length under the tables (escapes included), in bits."""
        symbols, escaped = self.symbols(q)
        bits = self._bits[np.arange(self.live.size), symbols].sum(axis=1)
        return bits + np.where(escaped, escape_bits(self.escape_values(q)), 0).sum(axis=1)


def _mixture_cdf(x: np.ndarray, means: np.ndarray, scales: np.ndarray, weights: np.ndarray) -> np.ndarray:
    z = (x[:, None] - means) / (scales * math.sqrt(2))
    return (weights * 0.5 * _erfc(-z)).sum(axis=1)


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _quantize(p: np.ndarray) -> np.ndarray:
    """Integer counts proportional to p, each >= 1, summing to exactly 2**PRECISION: the
    largest count absorbs the rounding."""
    total = 1 << PRECISION
    counts = np.maximum(1, np.round(p / p.sum() * (total - len(p))).astype(np.int64) + 1)
    counts[np.argmax(counts)] += total - counts.sum()
    assert counts.min() >= 1 and counts.sum() == total
    return counts


def escape_bits(values: np.ndarray) -> np.ndarray:
    """Length of the Elias-gamma code of ``values + 1``: 2 * floor(log2(v + 1)) + 1 bits."""
    return 2 * np.floor(np.log2(np.asarray(values, np.float64) + 1)) + 1

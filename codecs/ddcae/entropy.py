"""The entropy model: a histogram per code dimension, fitted on the training set's codes.

The training codes are kept as a fine-grid histogram (bin width ``grid``, much finer than any
allowed quantization step). The probability table for any ``step`` is derived from it by
assigning each fine bin to the quantization bin its centre rounds to, so one stored histogram
serves every step. Encoder and decoder must build the same table, on any machine: it is made
of exact operations only (integer counts, dyadic bin centres, one correctly rounded division
by the step and rint), and constriction gets the counts themselves (integers + 0.5, exact in
float32), not probabilities that a platform's summation order could round differently.

Numpy only: no torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

#: pseudo-count added to every in-range symbol, so that a value inside the fitted range that
#: the training set happened not to produce still costs a bounded number of bits
ALPHA = 0.5
#: pseudo-count of the escape symbol: values outside the range the training set produced
#: (cost when unused: ~64 * 1.44 / 60000 bits an image)
ESCAPE_COUNT = 1.0


@dataclass(frozen=True)
class CodeHistogram:
    """Per-dimension counts of the training codes on a grid: dim d, bin j covers
    ``[(start[d] + j) * grid, (start[d] + j + 1) * grid)``."""

    grid: float
    start: np.ndarray  # (D,) int64: the first bin of each dimension
    counts: tuple[np.ndarray, ...]  # D arrays of integer counts, one per dimension

    @classmethod
    def fit(cls, codes: np.ndarray, grid: float) -> CodeHistogram:
        bins = np.floor(np.asarray(codes, np.float64) / grid).astype(np.int64)
        start = bins.min(axis=0)
        counts = tuple(np.bincount(bins[:, d] - start[d]) for d in range(bins.shape[1]))
        return cls(float(grid), start, counts)

    @property
    def dims(self) -> int:
        return len(self.counts)

    def table(self, step: float) -> StepTable:
        """The probability model for codes quantized as ``round(z / step)``."""
        if not step > self.grid:
            raise ValueError(f"step {step} must be larger than the histogram grid {self.grid}")
        rows, lows = [], []
        for start, counts in zip(self.start, self.counts):
            centres = (start + np.arange(len(counts)) + 0.5) * self.grid
            symbols = np.rint(centres / step).astype(np.int64)
            low = int(symbols.min())
            rows.append(np.bincount(symbols - low, weights=counts.astype(np.float64)))
            lows.append(low)
        width = max(len(r) for r in rows) + 1  # + the escape symbol
        weights = np.zeros((self.dims, width))
        sizes = np.array([len(r) for r in rows], np.int64)
        for d, row in enumerate(rows):
            weights[d, : len(row)] = row + ALPHA
            weights[d, len(row)] = ESCAPE_COUNT
        return StepTable(float(step), np.array(lows, np.int64), sizes, weights)


@dataclass(frozen=True)
class StepTable:
    """Symbols of dimension d: ``0 .. sizes[d]-1`` stand for the quantized values
    ``low[d] .. low[d]+sizes[d]-1``; symbol ``sizes[d]`` is the escape (the value follows
    in the bitstream). Columns past the escape are padding, never encoded."""

    step: float
    low: np.ndarray  # (D,) int64
    sizes: np.ndarray  # (D,) int64: in-range symbols per dimension
    weights: np.ndarray  # (D, width) float64: counts + pseudo-counts, exact; zero padding

    @cached_property
    def weights32(self) -> np.ndarray:
        """The table as constriction takes it (float32, C-contiguous; it normalizes)."""
        return np.ascontiguousarray(self.weights, dtype=np.float32)

    @cached_property
    def bits(self) -> np.ndarray:
        """Ideal code length of each symbol, -log2(p); inf on the padding."""
        with np.errstate(divide="ignore"):
            return -np.log2(self.weights / self.weights.sum(axis=1, keepdims=True))

    def quantize(self, codes: np.ndarray) -> np.ndarray:
        """Integer codes ``round(z / step)`` (half to even), shape (N, D) int64."""
        return np.rint(np.asarray(codes, np.float64) / self.step).astype(np.int64)

    def symbols(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model symbols for integer codes (N, D), and the mask of escaped values."""
        offset = q - self.low
        escaped = (offset < 0) | (offset >= self.sizes)
        return np.where(escaped, self.sizes, offset), escaped

    def ideal_bits(self, q: np.ndarray) -> np.ndarray:
        """Ideal code length of each row of integer codes, escapes included, in bits."""
        symbols, escaped = self.symbols(q)
        bits = self.bits[np.arange(self.low.size), symbols].sum(axis=1)
        return bits + np.where(escaped, escape_bits(self.escape_values(q)), 0).sum(axis=1)

    def escape_values(self, q: np.ndarray) -> np.ndarray:
        """How far outside the fitted range each code lies, as a non-negative integer:
        0, 2, 4 ... above the range, 1, 3, 5 ... below it (0 inside, unused there)."""
        above = q - (self.low + self.sizes - 1) - 1
        below = self.low - q - 1
        return np.where(above >= 0, 2 * above, np.where(below >= 0, 2 * below + 1, 0))

    def from_escape_value(self, dim: int, value: int) -> int:
        high = int(self.low[dim] + self.sizes[dim] - 1)
        return high + 1 + value // 2 if value % 2 == 0 else int(self.low[dim]) - 1 - value // 2


def escape_bits(values: np.ndarray) -> np.ndarray:
    """Length of the Elias-gamma code of ``values + 1``: 2 * floor(log2(v + 1)) + 1 bits."""
    return 2 * np.floor(np.log2(np.asarray(values, np.float64) + 1)) + 1

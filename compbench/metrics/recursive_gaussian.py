"""The Gaussian blur of libjxl's SSIMULACRA 2 tool, as the finite filter it is.

libjxl blurs with the recursive Gaussian of Charalampidis (2016), "Recursive implementation of
the Gaussian filter using truncated cosine functions" (``CreateRecursiveGaussian(1.5)`` in
``tools/gauss_blur.cc``): three second-order resonators fed with x[n - N - 1] + x[n + N - 1]
(N = round(3.2795 sigma + 0.2546) = 5 for sigma 1.5), zero outside the image, one horizontal
and one vertical pass. Each resonator's second input cancels the oscillation the first one
started, so the recursion's impulse response is finite: 9 taps here. :func:`kernel` derives
those taps by running libjxl's recursion on an impulse (in float64), and :func:`blur_planes`
applies them (:class:`Tiles`) as a separable 9x9 convolution with zeros outside each image
(OpenCV's SIMD ``sepFilter2D``): the same linear filter, without the recursion's float32
rounding.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from ._work import opencv

SIGMA = 1.5  # SSIMULACRA 2's blur


@cache
def kernel(sigma: float = SIGMA) -> np.ndarray:
    """The recursive Gaussian's taps, float32, symmetric, summing to 1 (9 taps for sigma 1.5)."""
    radius, n2, d1 = _coefficients(sigma)
    size = 4 * radius + 1
    impulse = np.zeros(size)
    impulse[size // 2] = 1.0
    response = _recursion(impulse, radius, n2, d1)
    taps = np.flatnonzero(np.abs(response) > 1e-12)
    return response[taps[0]:taps[-1] + 1].astype(np.float32)


def half_width(sigma: float = SIGMA) -> int:
    return len(kernel(sigma)) // 2


#: width a canvas of small planes is tiled to: OpenCV filters long rows much faster than many
#: short ones (28-pixel digits one under another cost ~3x more per pixel)
CANVAS_WIDTH = 1024


class Tiles:
    """The layout the blur works on: P planes of H x W tiled into one 2-D canvas, shaped
    (rows of tiles, H + gap, tiles per row, W + gap), each plane followed by :func:`half_width`
    zero rows and columns, so no tap of the blur reaches another plane: zeros outside every
    plane, as libjxl's blur has."""

    def __init__(self, planes: int, height: int, width: int) -> None:
        gap = half_width()
        self.planes, self.height, self.width = planes, height, width
        self.per_row = max(1, CANVAS_WIDTH // (width + gap))
        self.rows = -(-planes // self.per_row)
        self.shape = (self.rows, height + gap, self.per_row, width + gap)

    def place(self, planes: np.ndarray) -> np.ndarray:
        """(P, H, W) planes on a new zero canvas."""
        tiles = np.zeros((self.rows * self.per_row, self.height, self.width), np.float32)
        tiles[:self.planes] = planes
        canvas = np.zeros(self.shape, np.float32)
        canvas[:, :self.height, :, :self.width] = \
            tiles.reshape(self.rows, self.per_row, self.height, self.width).transpose(0, 2, 1, 3)
        return canvas

    def interior(self, canvas: np.ndarray) -> np.ndarray:
        """The planes' pixels, a view (rows of tiles, H, tiles per row, W)."""
        return canvas[:, :self.height, :, :self.width]

    def per_plane(self, values: np.ndarray) -> np.ndarray:
        """(rows of tiles, tiles per row, ...) to (P, ...)."""
        return values.reshape(self.rows * self.per_row, *values.shape[2:])[:self.planes]

    def blur(self, canvas: np.ndarray) -> np.ndarray:
        """The recursive Gaussian of every plane (OpenCV's SIMD ``sepFilter2D``); the gaps then
        hold the blur's spill, to be ignored."""
        cv2 = opencv()  # loaded only when SSIMULACRA 2 is measured, with the worker's share of threads
        taps = kernel()
        rows, height, per_row, width = canvas.shape
        flat = canvas.reshape(rows * height, per_row * width)
        return cv2.sepFilter2D(flat, cv2.CV_32F, taps, taps,
                               borderType=cv2.BORDER_CONSTANT).reshape(canvas.shape)


def _coefficients(sigma: float) -> tuple[int, np.ndarray, np.ndarray]:
    """libjxl's CreateRecursiveGaussian: the radius N and each resonator's input weight n2 and
    feedback d1 (the paper's equations 33-57)."""
    radius = float(np.float32(3.2795 * sigma + 0.2546).round())  # roundf, eq. 57
    omega = np.array([1.0, 3.0, 5.0]) * math.pi / (2.0 * radius)
    p = np.array([1.0, -1.0, 1.0]) / np.tan(0.5 * omega)  # eq. 37
    r = np.array([1.0, -1.0, 1.0]) * p * p / np.sin(omega)  # eq. 44
    rho = np.exp(-0.5 * sigma * sigma * omega * omega) / radius  # eq. 50
    d13 = p[0] * r[1] - r[0] * p[1]  # eq. 52
    zeta15 = (p[1] * r[2] - r[1] * p[2]) / d13
    zeta35 = (p[2] * r[0] - r[2] * p[0]) / d13
    matrix = np.array([p, r, [zeta15, zeta35, 1.0]])  # eq. 56
    gamma = np.array([1.0, radius * radius - sigma * sigma, zeta15 * rho[0] + zeta35 * rho[1] + rho[2]])
    beta = np.linalg.solve(matrix, gamma)  # eq. 53
    if abs(beta @ p - 1.0) > 1e-12:  # libjxl's own check: the weights are normalised
        raise ArithmeticError("recursive Gaussian weights do not sum to 1")
    return int(radius), -beta * np.cos(omega * (radius + 1.0)), -2.0 * np.cos(omega)  # eq. 33


def _recursion(x: np.ndarray, radius: int, n2: np.ndarray, d1: np.ndarray) -> np.ndarray:
    """libjxl's FastGaussian1D in float64: y_k[n] = n2_k (x[n-N-1] + x[n+N-1]) - d1_k y_k[n-1]
    - y_k[n-2], output the sum of the three resonators, zeros outside ``x``."""
    width = len(x)
    out = np.zeros(width)
    prev, prev2 = np.zeros(3), np.zeros(3)
    for n in range(1 - radius, width):
        left, right = n - radius - 1, n + radius - 1
        total = (x[left] if left >= 0 else 0.0) + (x[right] if right < width else 0.0)
        y = n2 * total - d1 * prev - prev2
        prev2, prev = prev, y
        if n >= 0:
            out[n] = y.sum()
    return out

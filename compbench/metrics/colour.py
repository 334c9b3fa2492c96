"""Full-range BT.601 YCbCr of RGB images, as exact integer numerators (docs/metrics.md,
"Colour transform"): the luma that ``psnr_y`` and ``ssim`` use, and the chroma errors of
``psnr_ycbcr``, from one float32 copy of each image's strip.

Y = (299 R + 587 G + 114 B) / 1000, Cb - 128 = (B - Y) / 1.772 = (-299 R - 587 G + 886 B) / 1772,
Cr - 128 = (R - Y) / 1.402 = (701 R - 587 G - 114 B) / 1402. The numerators are integers below
2^18, exact in float32 (as is every partial sum OpenCV's transform forms), so colour
differences are exact: an R = G = B image has exactly zero chroma, which float coefficients
would not give.
"""

from __future__ import annotations

import numpy as np

from ._work import Scratch, opencv

#: (numerators for R, G, B; their scale) of Y, Cb - 128 and Cr - 128
YCBCR_NUMERATORS = (((299, 587, 114), 1000.0), ((-299, -587, 886), 1772.0), ((701, -587, -114), 1402.0))
#: weights of Y, Cb and Cr in ``psnr_ycbcr`` (6:1:1, as JPEG AI and VVC comparisons report)
YCBCR_WEIGHTS = (6.0, 1.0, 1.0)
#: the data range of the luma numerator, 1000 Y (SSIM does not change when the images and
#: their data range are scaled alike)
LUMA_PEAK = 1000 * 255.0
_ROWS = tuple(np.array([numerators], np.float32) for numerators, _ in YCBCR_NUMERATORS)


def luma_and_chroma_errors(x: np.ndarray, y: np.ndarray, owned: int, planes: np.ndarray,
                           scratch: Scratch) -> np.ndarray:
    """Luma numerators 1000 Y of a strip (K, R, W, 3) of RGB originals and reconstructions,
    written into ``planes`` (2, K, R, W) float32 (their squared error is summed with SSIM's
    statistics); returns the per-item squared errors of the Cb and Cr numerators (2, K), over
    the first ``owned`` rows (all of them when K > 1)."""
    cv2 = opencv()
    k, r, w, _ = x.shape
    rgb = scratch.get("rgb", (2, k * r, w, 3))
    np.copyto(rgb[0], x.reshape(k * r, w, 3))
    np.copyto(rgb[1], y.reshape(k * r, w, 3))
    for image, into in zip(rgb, planes.reshape(2, k * r, w), strict=True):
        cv2.transform(image, _ROWS[0], dst=into)

    own = k * owned  # rows counted here: a strip's own, or every row of whole images
    diff = cv2.subtract(rgb[0, :own], rgb[1, :own], dst=scratch.get("rgb_diff", (own, w, 3)))
    chroma = scratch.get("chroma", (own, w))
    errors = np.empty((2, k))
    for row, into in zip(_ROWS[1:], errors, strict=True):
        into[:] = sum_squares(cv2.transform(diff, row, dst=chroma), None, k)
    return errors


def sum_squares(a: np.ndarray, b: np.ndarray | None, k: int) -> np.ndarray:
    """Per item of the K items stacked in ``a`` (first axis K x rows), the sum of (a - b)^2, or
    of a^2: exact for uint8 and for integers in float32 up to float64's rounding of the total.
    One item is a strip of a large image: OpenCV's norm, which sums in 64 bits; several small
    images: numpy in float64, one row per image."""
    if k == 1:
        cv2 = opencv()
        a2 = a.reshape(a.shape[0], -1)
        if b is None:
            return np.array([cv2.norm(a2, cv2.NORM_L2SQR)])
        return np.array([cv2.norm(a2, b.reshape(a2.shape), cv2.NORM_L2SQR)])
    d = a.reshape(k, -1).astype(np.float64)
    if b is not None:
        d -= b.reshape(k, -1)
    return np.einsum("ij,ij->i", d, d)

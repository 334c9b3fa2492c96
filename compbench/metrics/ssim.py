"""SSIM as scikit-image's ``structural_similarity`` computes it with its defaults (7x7 uniform
window, sample covariance, K1 = 0.01, K2 = 0.03, the map averaged over the windows that lie
inside the image), from exact window sums.

scikit-image's map is only averaged over the pixels whose 7x7 window lies inside the image (the
border of 3 is cropped), so plain window sums over the interior are all it needs: no border
handling, and whole batches of small images (or strips of a large one) are summed at once as
one flat array whose windows crossing an image edge are cropped away.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._work import Scratch, opencv, opencv_pays

WIN = 7  # scikit-image's default SSIM window (uniform, WIN x WIN)
K1, K2 = 0.01, 0.03  # scikit-image's SSIM constants
NPX = WIN * WIN
#: below this data range, float32 holds the window sums of x^2 + y^2 (at most 49 x 2 peak^2)
#: exactly: 255 is below it; the luma numerator 1000 Y (peak 255,000) is not, and its squares
#: are summed in float64
FLOAT32_EXACT_PEAK = np.sqrt(2**24 / (2 * NPX))


def ssim_fits(shape) -> bool:
    """Whether SSIM's 7x7 window fits one image of this shape, (H, W) or (H, W, C)."""
    return min(shape[0], shape[1]) >= WIN


class PlaneSums(NamedTuple):
    """Per item (K,): the sum of the SSIM map over the item's windows, and the exact sums of
    x^2 + y^2 and of xy over its own rows (the squared error is their difference, twice)."""

    ssim: np.ndarray
    squares: np.ndarray
    products: np.ndarray


def plane_sums(planes: np.ndarray, owned: int, windows: int, peak: float, scratch: Scratch) -> PlaneSums:
    """:class:`PlaneSums` of ``planes`` (2, K, R, W), float32 planes x and y of K whole images
    or of a strip of one (whose own rows are the first ``owned``; SSIM windows: those whose top
    row is one of the first ``windows`` rows). Their values must be integers: window sums are
    then exact, and so are the formula's cancellations. ``peak``: their data range.
    Overwrites ``planes``."""
    _, k, r, w = planes.shape
    square = np.float32 if peak <= FLOAT32_EXACT_PEAK else np.float64
    x, y = planes
    if square is np.float64:  # converted first: numpy's mixed float32 -> float64 loops are slower
        x, y = scratch.copy("ssim_x", x, square), scratch.copy("ssim_y", y, square)
    products = scratch.get("ssim_products", (2, k, r, w), square)  # x^2 + y^2, xy
    np.multiply(x, x, out=products[0])
    products[0] += np.multiply(y, y, out=products[1])
    np.multiply(x, y, out=products[1])
    squares, cross = _item_sums(products[:, :, :owned])  # before the window sums overwrite them
    if windows == 0:
        return PlaneSums(np.zeros(k), squares, cross)

    sums = scratch.get("ssim_sums", (4, k, windows, w - WIN + 1), np.float64)
    for stack, into in ((planes, sums[:2]), (products, sums[2:])):
        summed = _box_sums(stack, scratch)
        np.copyto(into, summed[:, :, :windows, : w - WIN + 1])  # the windows inside the image
    return PlaneSums(_ssim_map_sums(sums, peak, scratch), squares, cross)


def _item_sums(stack: np.ndarray) -> np.ndarray:
    """Sums per item of a stack (P, K, ...) of integer-valued planes, exact in float64 (below
    2^53): OpenCV's sum (float64 accumulators, ~3x numpy's float32 -> float64 reduction) when
    the items are one large strip; numpy's reduction per item for small images."""
    p, k = stack.shape[:2]
    if opencv_pays(k, stack[0].size):
        cv2 = opencv()
        return np.array([[cv2.sumElems(plane.reshape(-1, plane.shape[-1]))[0]] for plane in stack])
    return np.add.reduce(stack.reshape(p, k, -1), axis=2, dtype=np.float64)


def _ssim_map_sums(sums: np.ndarray, peak: float, scratch: Scratch) -> np.ndarray:
    """Per item, the sum of SSIM over windows from their sums (4, K, ...) of x, y, x^2 + y^2, xy.

    scikit-image's formula (means ux = sx/NP, sample covariances with NP/(NP-1)) multiplied
    through by NP^2 (NP-1), so that every term but the constants is an exact integer:
    S = (2 sx sy + c1)(2 (NP sxy - sx sy) + c2) / ((sx^2 + sy^2 + c1)(NP s2 - sx^2 - sy^2 + c2)).
    Overwrites ``sums``."""
    c1 = (K1 * peak) ** 2 * NPX * NPX
    c2 = (K2 * peak) ** 2 * NPX * (NPX - 1)
    k = sums.shape[1]
    sx, sy, s2, sxy = sums.reshape(4, -1)
    p = np.multiply(sx, sy, out=scratch.get("ssim_p", sx.shape, np.float64))
    q = np.multiply(sx, sx, out=sx)
    q += np.multiply(sy, sy, out=sy)
    num = np.subtract(np.multiply(sxy, NPX, out=sxy), p, out=sxy)  # NP sxy - p
    num *= 2.0
    num += c2
    p *= 2.0
    p += c1
    num *= p
    den = np.subtract(np.multiply(s2, NPX, out=s2), q, out=s2)  # NP s2 - q
    den += c2
    q += c1
    den *= q
    num /= den
    return num.reshape(k, -1).sum(axis=1)


def _box_sums(stack: np.ndarray, scratch: Scratch) -> np.ndarray:
    """Sums over the WIN x WIN windows of a stack of images (P, K, R, W), each at its window's
    top-left pixel; windows that cross an image's edge are garbage (cropped by the caller).
    OpenCV's box filter for float64 and for strips of one wide image (2-3x numpy's passes
    there); numpy's whole-stack slices for small float32 images (faster than OpenCV's per-row
    work on 28-pixel rows). Both exact on integers (OpenCV sums float in float64)."""
    w = stack.shape[-1]
    if stack.dtype == np.float64 or opencv_pays(stack.shape[1], stack[0].size):
        cv2 = opencv()
        out = scratch.get(f"box_sums_{stack.dtype}", stack.shape, stack.dtype)
        cv2.boxFilter(stack.reshape(-1, w), -1, (WIN, WIN), dst=out.reshape(-1, w), anchor=(0, 0),
                      normalize=False, borderType=cv2.BORDER_CONSTANT)
        return out
    # Along W (neighbours 1 apart), then along rows (W apart), over the flat stack: the stack's
    # images follow each other, so one pass covers them all.
    flat = stack.reshape(-1)
    rows = scratch.get(f"box_rows_{flat.dtype}", flat.shape, flat.dtype)
    tmp = scratch.get(f"box_tmp_{flat.dtype}", flat.shape, flat.dtype)
    _window_sums(flat, 1, out=rows, tmp=tmp)
    _window_sums(rows, w, out=flat, tmp=tmp)
    return stack


def _window_sums(a: np.ndarray, stride: int, out: np.ndarray, tmp: np.ndarray) -> None:
    """out[i] = a[i] + a[i + s] + ... + a[i + 6 s] (s = stride) over flat arrays, in 4 adds.

    Entries whose window crosses a row or image edge are garbage and the last 6 strides are
    zero (not left undefined: they are read by the next pass); the caller crops both away.
    Whole-array contiguous slices keep numpy fast."""
    s, n = stride, a.size  # the doubling is written out for WIN = 7
    np.add(a[: n - s], a[s:], out=tmp[: n - s])  # terms 0-1
    np.add(tmp[: n - 3 * s], tmp[2 * s : n - s], out=out[: n - 3 * s])  # terms 0-3
    out[: n - 5 * s] += tmp[4 * s : n - s]  # terms 0-5
    out[: n - 6 * s] += a[6 * s :]  # terms 0-6
    out[n - 6 * s :] = 0

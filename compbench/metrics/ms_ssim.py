"""MS-SSIM as pytorch-msssim computes it (Wang, Simoncelli & Bovik 2003): 11-tap Gaussian
window (sigma 1.5) with valid filtering, five scales with 2x2 average pooling between them
(an odd side zero-padded by one on both ends, the zeros counted), the relu of each scale's mean,
their product of powers; per channel, averaged for colour (as CompressAI reports it).

Speed: the Gaussian filtering is most of the work (four filtered planes per channel and scale),
done by OpenCV's SIMD ``sepFilter2D`` in float32 on strips of rows (:mod:`._work`), the four
planes of a strip stacked into one call (per-call overhead is large on strips). Memory: one
channel at a time, strips of a few MB, and the coarser scales of that channel (u and v, below):
at most 2.7 bytes per pixel of the image.

Precision: float32, as pytorch-msssim itself computes, but arranged so that rounding does not
add up. The statistics are taken of u = x + y - c and v = x - y rather than of x and y, so
cs = (2 cov + C2) / (var x + var y + C2) = 1 - 2 var(v) / (var(u) + var(v) + 2 C2) (each
variance Gaussian-weighted): var(v) is small and exact for a good reconstruction, and the
cancellation in var(u) = G(u^2) - G(u)^2 moves cs only in proportion to 1 - cs; c, the
integer nearest mean(x) + mean(y) of the image and channel, keeps u^2 small where the image is
typical (a dark photograph centred on 255 rounds several times more). The float32 window is
rounded so its taps sum to exactly 1 (a gain of 1 + e biases every variance by e G(u)^2), and
constants are added after filtering, never folded into a float32 map. Every pooled scale is
exact in float32 (averages of 4^k integers). On scikit-image's photographs JPEG-compressed at
qualities 2 to 95 the result is within 6e-8 (relative) of the float64 computation
(``benchmarks/bench_metrics.py --precision``).
"""

from __future__ import annotations

import functools

import numpy as np

from ._work import Scratch, as_nhwc, checked_pair, opencv, strips

#: MS-SSIM's five scales with an 11-tap window need the shorter side above (11 - 1) * 2^4
MS_SSIM_MIN_SIDE = 161
MS_SSIM_WIN, MS_SSIM_SIGMA = 11, 1.5  # the Gaussian window of MS-SSIM (Wang et al. 2003)
#: the weights of MS-SSIM's five scales (Wang et al. 2003), as pytorch-msssim has them
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
PEAK = 255.0
C1, C2 = (0.01 * PEAK) ** 2, (0.03 * PEAK) ** 2
#: pixels per strip (at least STRIP_MIN_ROWS rows): larger strips repeat less halo (10 rows
#: each) and pay less per-call overhead, smaller ones stay in cache; the fastest measured
STRIP_PIXELS = 1 << 16
STRIP_MIN_ROWS = 64


def ms_ssim_fits(shape) -> bool:
    """Whether MS-SSIM's five scales fit one image of this shape, (H, W) or (H, W, C)."""
    return min(shape[0], shape[1]) >= MS_SSIM_MIN_SIDE


def ms_ssim_window() -> np.ndarray:
    """MS-SSIM's Gaussian window: 11 taps, sigma 1.5, normalised, in float64."""
    taps = np.arange(MS_SSIM_WIN) - MS_SSIM_WIN // 2
    window = np.exp(-(taps**2) / (2 * MS_SSIM_SIGMA**2))
    return window / window.sum()


def float32_window() -> np.ndarray:
    """The window in float32, its taps nudged by a few units in their last place so that they
    sum to exactly 1 (as an exact sum of the float32 values): plain rounding leaves a gain of
    1 - 1.4e-9, which biases every variance G(u^2) - G(u)^2 by that much of G(u)^2."""
    window = ms_ssim_window().astype(np.float32)
    # Outermost pairs first (the smallest taps: the finest steps), then the centre tap. A float32
    # window's exact sum fits in float64, so the residual below is exact.
    for i in range(len(window) // 2 + 1):
        pair = 1 if i == len(window) // 2 else 2
        step = np.spacing(window[i])
        residual = 1.0 - window.astype(np.float64).sum()
        window[i] = window[-1 - i] = window[i] + np.float32(np.rint(residual / pair / step)) * step
    return window


def ms_ssim(originals, reconstructions) -> np.ndarray:
    """MS-SSIM per image (see the module docstring); NaN for images whose shorter side is
    under :data:`MS_SSIM_MIN_SIDE`. uint8 batches (N, H, W) or (N, H, W, C)."""
    x, y = checked_pair(originals, reconstructions)
    out = np.full(len(x), np.nan)
    if len(x) == 0 or not ms_ssim_fits(x.shape[1:]):
        return out
    x, y = as_nhwc(x), as_nhwc(y)
    window, scratch = float32_window(), Scratch()
    for i in range(len(x)):
        offsets = _centres(x[i], y[i])
        out[i] = np.mean([_channel(x[i], y[i], c, offsets[c], window, scratch) for c in range(x.shape[3])])
    return out


def _centres(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per channel of an image pair (H, W, C), the integer nearest mean(x) + mean(y): the c of
    u = x + y - c (see the module docstring)."""
    if x.shape[2] <= 4:
        cv2 = opencv()  # numpy's mean is ~10x slower
        means = np.add(cv2.mean(x), cv2.mean(y))[: x.shape[2]]
    else:
        means = x.mean(axis=(0, 1)) + y.mean(axis=(0, 1))
    return np.rint(means)


def _channel(x: np.ndarray, y: np.ndarray, channel: int, offset: float, window: np.ndarray,
             scratch: Scratch) -> float:
    """MS-SSIM of one channel of an image pair (H, W, C): the relu of each scale's mean cs (the
    last scale's mean SSIM), the product of their powers.

    A scale is read as u = x + y - offset and v = x - y, and the next scale is pooled from
    those (pooling is linear: it pools x and y)."""
    cv2 = opencv()
    h, w = x.shape[:2]

    def plane(image: np.ndarray, name: str, start: int, stop: int) -> np.ndarray:
        """The channel's rows as a contiguous uint8 plane (what OpenCV takes)."""
        if image.shape[2] == 1:
            return image[start:stop, :, 0]
        return cv2.extractChannel(image[start:stop], channel, dst=scratch.get(name, (stop - start, w), np.uint8))

    def load_original(start: int, stop: int, u: np.ndarray, v: np.ndarray) -> None:
        a, b = plane(x, "channel_x", start, stop), plane(y, "channel_y", start, stop)
        # from uint8 straight into float32, one pass each (integers: exact in any order);
        # u centred: smaller squares, less rounding
        cv2.addWeighted(a, 1.0, b, 1.0, -offset, dst=u, dtype=cv2.CV_32F)
        cv2.subtract(a, b, dst=v, dtype=cv2.CV_32F)

    load, value = load_original, 1.0
    last = len(MS_SSIM_WEIGHTS) - 1
    for level, weight in enumerate(MS_SSIM_WEIGHTS):
        mean, pooled = _scale(load, h, w, offset, window, scratch, pool=level < last)
        value *= max(mean, 0.0) ** weight
        if pooled is not None:
            h, w = pooled.shape[1:]
            load = functools.partial(_load_pooled, pooled)
    return value


def _load_pooled(pooled: np.ndarray, start: int, stop: int, u: np.ndarray, v: np.ndarray) -> None:
    np.copyto(u, pooled[0, start:stop])
    np.copyto(v, pooled[1, start:stop])


def _scale(load, h: int, w: int, offset: float, window: np.ndarray, scratch: Scratch, pool: bool):
    """One scale of an (h, w) channel whose strips ``load`` fills with u (x + y - offset) and v
    (x - y): the mean over
    the valid (unpadded) windows of cs, or of SSIM = luminance * cs at the last scale (``pool``
    false); and, unless last, the next scale's u and v (2, ceil(h / 2), ceil(w / 2)).

    The filtered planes are OpenCV's 'same'-size output cropped by the window's half-width on
    every side: those pixels' windows lie inside the strip, so the border mode never enters them
    and they are the valid convolution."""
    cv2 = opencv()
    half = MS_SSIM_WIN // 2
    pooled = np.empty((2, (h + 1) // 2, (w + 1) // 2), np.float32) if pool else None
    total = 0.0
    for strip in strips(h, max(STRIP_MIN_ROWS, STRIP_PIXELS // w), MS_SSIM_WIN):
        rows, r = strip.stop - strip.start, strip.windows
        maps = scratch.get("maps", (4, rows, w))
        load(strip.start, strip.stop, maps[0], maps[1])
        if pooled is not None:
            _pool_strip(maps[:2], strip, h, w, (-offset, 0.0), pooled)
        if r == 0:
            continue
        np.square(maps[:2], out=maps[2:])  # u^2, v^2
        filtered = scratch.get("filtered", (4, rows, w))
        cv2.sepFilter2D(maps.reshape(-1, w), cv2.CV_32F, window, window, dst=filtered.reshape(-1, w))
        valid = filtered[:, half : half + r]  # full rows, cropped when summed
        means, variances = valid[:2], valid[2:]
        np.subtract(variances, np.square(means, out=scratch.get("tmp", means.shape)), out=variances)
        mu, mv, var_u, var_v = valid  # variances: var(u), var(v)
        den = cv2.addWeighted(var_u, 1.0, var_v, 1.0, 2 * C2, dst=scratch.get("den", var_u.shape))
        cs_defect = np.divide(var_v, den, out=var_v)  # cs = 1 - 2 var(v) / den
        if pool:
            total += r * (w - 2 * half) - 2 * cv2.sumElems(cs_defect[:, half : w - half])[0]
            continue
        # luminance (2 mx my + C1) / (mx^2 + my^2 + C1), with mx + my = G(u) + offset and
        # mx - my = G(v); the last scale is small: float64, plainly
        cs = 1.0 - 2.0 * cs_defect.astype(np.float64)
        sum_sq = np.square(mu.astype(np.float64) + offset)
        diff_sq = np.square(mv.astype(np.float64))
        ssim = (sum_sq - diff_sq + 2 * C1) / (sum_sq + diff_sq + 2 * C1) * cs
        total += ssim[:, half : w - half].sum()
    return total / ((h - 2 * half) * (w - 2 * half)), pooled


def _pool_strip(uv: np.ndarray, strip, h: int, w: int, pads: tuple[float, float], pooled: np.ndarray) -> None:
    """Pool this strip's share of the next scale from its u and v (2, rows, w): 2x2 averages
    with stride 2 as pytorch-msssim pools (``avg_pool2d(kernel_size=2, padding=side % 2)``):
    an odd side is zero-padded by one on both ends and the zeros are counted, so (odd h) pooled
    row 0 averages the padding with row 0, and row i > 0 rows 2i - 1 and 2i. A strip makes the
    pooled rows whose first row it owns (the second is its own or its halo's; the first strip
    also makes row 0 with the padding, x = y = 0: ``pads`` as u and v). float32 holds every
    scale exactly (averages of 4^k integers, k <= 4)."""
    cv2 = opencv()
    ph, pw = h % 2, w % 2
    first = 0 if strip.start == 0 else (strip.start + ph + 1) // 2
    stop = (strip.start + strip.owned + ph + 1) // 2
    inner = max(first, ph)  # pooled rows from two image rows (not the padding)
    top = 2 * inner - ph - strip.start  # their first image row, in the strip
    for plane, out, pad in zip(uv, pooled, pads, strict=True):
        if stop > inner:  # exact: averages of four values on a grid of 4^-k
            cv2.resize(plane[top : top + 2 * (stop - inner), pw:], (out.shape[1] - pw, stop - inner),
                       dst=out[inner:stop, pw:], interpolation=cv2.INTER_AREA)
        if pw:  # the left column: two pads and two pixels of column 0
            column = plane[top : top + 2 * (stop - inner), 0]
            out[inner:stop, 0] = (column[0::2] + column[1::2] + 2 * pad) * 0.25
        if ph and first == 0:  # row 0: two pads (three at the corner) and row 0's pixels
            out[0, pw:] = (plane[0, pw::2] + plane[0, pw + 1 :: 2] + 2 * pad) * 0.25
            if pw:
                out[0, 0] = (plane[0, 0] + 3 * pad) * 0.25

"""Per-image metrics (design §3), vectorised over a batch of same-shape images: the numbers.
What each metric is (direction, format, gating, ...) is declared once, in
:mod:`compbench.metrics`; the exact definitions are in docs/metrics.md.

``image_metrics`` is called once per work unit on thousands of small images (MNIST: 28x28), so
everything is computed for the whole batch with numpy: a loop that calls scikit-image per image
costs ~0.3 ms an image (SSIM alone), this ~20-30 µs for all metrics (10,000 MNIST images in
0.2-0.3 s on one core, ``benchmarks/bench_metrics.py``). Each metric is checked against
scikit-image, scipy, pytorch-msssim or plain numpy, per image, in ``tests/test_metrics.py``
and ``tests/test_colour_metrics.py``.

Definitions (``x`` original, ``y`` reconstruction, uint8; ``P`` = H*W pixels, not samples):

- ``bytes``: the real bitstream length; ``bpp`` = 8 * bytes / P;
  ``bpp_payload`` = 8 * (bytes - overhead) / P, without the header a container could share.
- ``mse`` = mean (x - y)^2 over all samples (all channels); ``psnr`` = 10 log10(255^2 / mse),
  +inf if lossless: PSNR over all channels, as CompressAI reports it.
- ``psnr_y``: PSNR of the BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (full range, not
  rounded); ``psnr_ycbcr`` = (6 PSNR_Y + PSNR_Cb + PSNR_Cr) / 8 with the full-range chroma
  Cb = 128 + (B - Y) / 1.772, Cr = 128 + (R - Y) / 1.402 (JFIF's, unrounded); a component reproduced exactly is left out of the weighted mean (the
  weights renormalised), so the result is +inf only for a lossless image. Gray images: both
  equal ``psnr`` (the image is its own luma and has no chroma).
- ``snr_db`` = 10 log10(sum x^2 / sum (x - y)^2): +inf if lossless, -inf if x is all zero and
  y is not, NaN if both are all zero.
- ``ssim``: ``skimage.metrics.structural_similarity(x, y, data_range=255)`` with its defaults
  (7x7 uniform window, sample covariance, K1 = 0.01, K2 = 0.03, the 3-pixel border cropped),
  on the luma Y of a colour image (on each channel, averaged, for other channel counts). NaN
  when the 7x7 window does not fit (min(H, W) < 7), where scikit-image raises instead.
- ``ms_ssim`` (:func:`ms_ssim`): pytorch-msssim's ``ms_ssim`` (11-tap Gaussian, sigma 1.5,
  five scales, data range 255; computed here in float64 with scipy, checked against it), per
  channel and averaged for colour, as CompressAI reports it;
  NaN below :data:`MS_SSIM_MIN_SIDE` pixels on the shorter side (its five scales do not fit).
- ``entropy``: Shannon entropy in bits of the 256-bin histogram of y, channels pooled (the
  paper's Fig. 8).
- ``snr_paper`` = mean(y) / std(y) (population std), 0 for a constant image: the legacy
  ``scipy.stats.signaltonoise`` of the paper's Fig. 10, which is not an SNR of the coding.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MS_SSIM_MIN_SIDE", "entropy_bits", "image_metrics", "ms_ssim", "ms_ssim_fits", "ms_ssim_window",
           "psnr_from_mse", "ssim_fits"]


#: the columns of :func:`image_metrics`: the core metrics one fused pass computes (their
#: declarations, and the order of records.csv, are in :mod:`compbench.metrics.core`)
FUSED_METRICS = ("bytes", "bpp", "bpp_payload", "mse", "psnr", "psnr_y", "psnr_ycbcr", "snr_db", "ssim",
                 "entropy", "snr_paper")

PEAK = 255.0  # data range of uint8 samples
WIN = 7  # scikit-image's default SSIM window (uniform, WIN x WIN)
K1, K2 = 0.01, 0.03  # scikit-image's SSIM constants
# Samples per chunk of images (83 MNIST digits); the fastest measured: much larger chunks are
# slower (memory traffic, page faults on big temporaries), smaller ones pay numpy's per-call
# overhead.
CHUNK_SAMPLES = 1 << 16
# Full-range BT.601 YCbCr as integer numerators over a scale: Y = (299 R + 587 G + 114 B) / 1000,
# Cb - 128 = (B - Y) / 1.772 = (-299 R - 587 G + 886 B) / 1772,
# Cr - 128 = (R - Y) / 1.402 = (701 R - 587 G - 114 B) / 1402.
# Colour differences are then exact integers: an R = G = B image has exactly zero chroma,
# which float coefficients would not give.
YCBCR_NUMERATORS = ((np.array([299, 587, 114]), 1000.0), (np.array([-299, -587, 886]), 1772.0),
                    (np.array([701, -587, -114]), 1402.0))
LUMA_1E3 = YCBCR_NUMERATORS[0][0]
#: weights of Y, Cb and Cr in ``psnr_ycbcr`` (6:1:1, as JPEG AI and VVC comparisons report)
YCBCR_WEIGHTS = (6.0, 1.0, 1.0)
#: MS-SSIM's five scales with an 11-tap window need the shorter side above (11 - 1) * 2^4
MS_SSIM_MIN_SIDE = 161
MS_SSIM_WIN, MS_SSIM_SIGMA = 11, 1.5  # the Gaussian window of MS-SSIM (Wang et al. 2003)
#: the weights of MS-SSIM's five scales (Wang et al. 2003), as pytorch-msssim has them
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def psnr_from_mse(mse):
    """PSNR in dB of 8-bit images from their MSE: 10 log10(255^2 / mse); +inf where mse == 0."""
    mse = np.asarray(mse, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(PEAK**2 / mse)


def ssim_fits(shape) -> bool:
    """Whether SSIM's 7x7 window fits one image of this shape, (H, W) or (H, W, C)."""
    return min(shape[0], shape[1]) >= WIN


def ms_ssim_fits(shape) -> bool:
    """Whether MS-SSIM's five scales fit one image of this shape, (H, W) or (H, W, C)."""
    return min(shape[0], shape[1]) >= MS_SSIM_MIN_SIDE


def ms_ssim(originals, reconstructions) -> np.ndarray:
    """MS-SSIM per image, as pytorch-msssim computes it (see the module docstring); NaN for
    images whose shorter side is under :data:`MS_SSIM_MIN_SIDE`.

    Written with scipy's 1-D correlation in float64, one image and channel at a time: PyTorch
    has no fast float64 convolution on the CPU (its im2col path took ~0.5 s and hundreds of MB
    of page faults per photograph), and float32 moves the value by ~1e-6.
    ``tests/test_colour_metrics.py`` checks it against pytorch-msssim itself.
    """
    x = _as_uint8(originals, "originals")
    y = _as_uint8(reconstructions, "reconstructions")
    if x.shape != y.shape:
        raise ValueError(f"originals {x.shape} and reconstructions {y.shape} differ in shape")
    out = np.full(len(x), np.nan)
    if len(x) == 0 or not ms_ssim_fits(x.shape[1:]):
        return out
    window = ms_ssim_window()
    for i in range(len(x)):
        a, b = x[i].reshape(*x.shape[1:3], -1), y[i].reshape(*y.shape[1:3], -1)  # (H, W, C)
        out[i] = np.mean([_ms_ssim_plane(a[..., c], b[..., c], window) for c in range(a.shape[2])])
    return out


def ms_ssim_window() -> np.ndarray:
    """MS-SSIM's Gaussian window: 11 taps, sigma 1.5, normalised, in float64 (pytorch-msssim
    builds it in float32, ~1e-6 off in MS-SSIM)."""
    taps = np.arange(MS_SSIM_WIN) - MS_SSIM_WIN // 2
    window = np.exp(-(taps**2) / (2 * MS_SSIM_SIGMA**2))
    return window / window.sum()


def _ms_ssim_plane(x: np.ndarray, y: np.ndarray, window: np.ndarray) -> float:
    """MS-SSIM of one channel: pytorch-msssim's five scales, its relu of each scale's mean
    and its product of powers."""
    x, y = x.astype(np.float64), y.astype(np.float64)
    c1, c2 = (K1 * PEAK) ** 2, (K2 * PEAK) ** 2
    value = 1.0
    for level, weight in enumerate(MS_SSIM_WEIGHTS):
        mu_x, mu_y = _gaussian_valid(x, window), _gaussian_valid(y, window)
        mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
        sigma_x = _gaussian_valid(x * x, window) - mu_xx
        sigma_y = _gaussian_valid(y * y, window) - mu_yy
        sigma_xy = _gaussian_valid(x * y, window) - mu_xy
        cs = (2 * sigma_xy + c2) / (sigma_x + sigma_y + c2)
        if level < len(MS_SSIM_WEIGHTS) - 1:
            value *= max(cs.mean(), 0.0) ** weight
            x, y = _average_pool(x), _average_pool(y)
        else:
            value *= max((((2 * mu_xy + c1) / (mu_xx + mu_yy + c1)) * cs).mean(), 0.0) ** weight
    return value


def _gaussian_valid(plane: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Separable filtering with no padding (pytorch-msssim's valid convolution)."""
    from scipy.ndimage import correlate1d

    half = len(window) // 2
    rows = correlate1d(plane, window, axis=0)[half:-half]
    return correlate1d(rows, window, axis=1)[:, half:-half]


def _average_pool(plane: np.ndarray) -> np.ndarray:
    """2x2 average with stride 2, an odd side zero-padded by one on both ends and the zeros
    counted (``avg_pool2d(kernel_size=2, padding=side % 2)``, as pytorch-msssim pools)."""
    ph, pw = plane.shape[0] % 2, plane.shape[1] % 2
    padded = np.pad(plane, ((ph, ph), (pw, pw))) if ph or pw else plane
    h, w = (plane.shape[0] + 2 * ph - 2) // 2 + 1, (plane.shape[1] + 2 * pw - 2) // 2 + 1
    return padded[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3))


def entropy_bits(image) -> float:
    """Shannon entropy in bits of the 256-bin histogram of one uint8 image (channels pooled)."""
    image = _as_uint8(image, "image")
    counts = np.bincount(image.ravel(), minlength=256)
    return float(_entropy_from_counts(counts[None, :])[0])


def image_metrics(originals, reconstructions, nbytes, overhead_bytes) -> dict[str, np.ndarray]:
    """All per-image metrics of a batch; see the module docstring for the definitions.

    ``originals`` and ``reconstructions`` are uint8 arrays of one shape, (N, H, W) or
    (N, H, W, C); ``nbytes`` the N real bitstream lengths; ``overhead_bytes`` the shareable
    header bytes, one int or N of them. Returns a float64 array of N values per core metric it
    computes (all but MS-SSIM and the timings; their order is the run's MetricSet's, not this
    pass's). ``ssim`` is NaN when min(H, W) < 7 (the window does not fit).
    """
    x = _as_uint8(originals, "originals")
    y = _as_uint8(reconstructions, "reconstructions")
    if x.shape != y.shape:
        raise ValueError(f"originals {x.shape} and reconstructions {y.shape} differ in shape")
    if x.ndim not in (3, 4) or 0 in x.shape[1:]:
        raise ValueError(f"images must be a batch (N, H, W) or (N, H, W, C), got {x.shape}")
    n, pixels = len(x), x.shape[1] * x.shape[2]
    nbytes, overhead = _byte_counts(nbytes, overhead_bytes, n)

    out = {name: np.empty(n) for name in FUSED_METRICS}
    out["bytes"][:] = nbytes
    out["bpp"][:] = 8.0 * nbytes / pixels
    out["bpp_payload"][:] = 8.0 * (nbytes - overhead) / pixels

    # One image layout for grey and colour: (N, H, W, C), C = 1 for grey.
    shape = x.shape[:3] + (x.shape[3] if x.ndim == 4 else 1,)
    x, y = x.reshape(shape), y.reshape(shape)
    samples = pixels * shape[3]
    step = max(1, CHUNK_SAMPLES // samples)
    # int32 work buffers reused by every chunk: fresh large temporaries per chunk cost more
    # in page faults than the arithmetic itself.
    work = np.empty((3, 4 * min(step, n) * samples), dtype=np.int32)
    for start in range(0, n, step):
        _chunk_metrics(x[start : start + step], y[start : start + step], out, start, work)

    out["psnr"][:] = psnr_from_mse(out["mse"])
    if shape[3] != 3:  # gray: the image is its own luma and has no chroma
        out["psnr_y"][:] = out["psnr"]
        out["psnr_ycbcr"][:] = out["psnr"] if shape[3] == 1 else np.nan
    return out


def _chunk_metrics(x: np.ndarray, y: np.ndarray, out: dict, start: int, work: np.ndarray) -> None:
    """Fill rows start.. of ``out`` for a chunk of images (M, H, W, C)."""
    m, samples = len(x), x[0].size
    rows = slice(start, start + m)

    # int32 is exact for every sum below (a 7x7 window sum of x^2 + y^2 is at most 6.4e6) and
    # moves half the bytes of float64.
    stack = work[0, : 4 * m * samples].reshape((4,) + x.shape)
    xi, yi, sq, xy = stack  # x, y, x^2 + y^2, xy
    xi[...] = x
    yi[...] = y
    np.multiply(xi, xi, out=sq)
    sum_x2 = _per_image_sum(sq)
    sq += np.multiply(yi, yi, out=xy)
    np.multiply(xi, yi, out=xy)

    # Integer sums per image are exact, so sse is too: sum (x-y)^2 = sum (x^2 + y^2) - 2 sum xy.
    sse = _per_image_sum(sq) - 2.0 * _per_image_sum(xy)
    out["mse"][rows] = sse / samples
    with np.errstate(divide="ignore", invalid="ignore"):  # lossless: inf; all-zero x: -inf/NaN
        out["snr_db"][rows] = 10.0 * np.log10(sum_x2 / sse)

    if x.shape[3] == 3:
        _colour_metrics(x, y, out, rows)
    else:
        out["ssim"][rows] = _ssim(stack, work[1:]) if ssim_fits(x.shape[1:]) else np.nan

    flat_y = y.reshape(m, samples)
    mean, std = flat_y.mean(axis=1), flat_y.std(axis=1)  # numpy's two-pass std, as scipy had
    out["snr_paper"][rows] = np.divide(mean, std, out=np.zeros(m), where=std != 0)

    # One bincount for the chunk: image i's values are shifted into bins 256*i .. 256*i+255.
    shifted = flat_y + (256 * np.arange(m))[:, None]
    counts = np.bincount(shifted.ravel(), minlength=256 * m).reshape(m, 256)
    out["entropy"][rows] = _entropy_from_counts(counts)


def _colour_metrics(x: np.ndarray, y: np.ndarray, out: dict, rows: slice) -> None:
    """psnr_y, psnr_ycbcr and the luma SSIM of a chunk of RGB images (M, H, W, 3).

    Colour differences are exact integers (:data:`YCBCR_NUMERATORS`, int64); their squares are
    summed in float64. Luma SSIM runs on 1000 Y, an exact integer image: SSIM does
    not change when the images and the data range are scaled alike.
    """
    m, h, w, _ = x.shape
    xi, yi = x.astype(np.int64), y.astype(np.int64)
    diff = xi - yi
    mse = []
    for coefficients, scale in YCBCR_NUMERATORS:
        d = (diff @ coefficients).reshape(m, -1).astype(np.float64)
        mse.append(np.einsum("ij,ij->i", d, d) / (h * w) / scale**2)
    psnr = [psnr_from_mse(e) for e in mse]
    out["psnr_y"][rows] = psnr[0]
    # A component with no error would make the weighted mean +inf although the image is lossy
    # (an RGB image with R = G = B has no chroma to get wrong): leave it out, renormalise.
    lossy = np.array([np.isfinite(p) for p in psnr])
    weights = np.array(YCBCR_WEIGHTS)[:, None] * lossy
    with np.errstate(invalid="ignore"):
        weighted = (weights * np.where(lossy, psnr, 0.0)).sum(axis=0) / weights.sum(axis=0)
    out["psnr_ycbcr"][rows] = np.where(lossy.any(axis=0), weighted, np.inf)

    if not ssim_fits(x.shape[1:]):
        out["ssim"][rows] = np.nan
        return
    luma_x, luma_y = xi @ LUMA_1E3, yi @ LUMA_1E3
    stack = np.empty((4, m, h, w, 1), dtype=np.int64)  # sums of 1000 Y squared need int64
    stack[0, ..., 0], stack[1, ..., 0] = luma_x, luma_y
    stack[2, ..., 0] = luma_x * luma_x + luma_y * luma_y
    stack[3, ..., 0] = luma_x * luma_y
    out["ssim"][rows] = _ssim(stack, np.empty((2, stack.size), dtype=np.int64), peak=PEAK * 1e3)


def _ssim(stack: np.ndarray, spare: np.ndarray, peak: float = PEAK) -> np.ndarray:
    """Mean SSIM per image from the integer stack (x, y, x^2 + y^2, xy), each (M, H, W, C).

    The same numbers as scikit-image's uniform-filter SSIM: its map is only averaged over the
    pixels whose 7x7 window lies inside the image (the border of 3 is cropped), so plain
    window sums over the interior are all it needs; no border handling. Overwrites ``stack``
    and uses ``spare``, two buffers of its dtype at least as large. ``peak``: the data range.
    """
    _, m, h, w, c = stack.shape
    flat = stack.reshape(-1)  # a view: the stack is a contiguous slice of the work buffer
    rows, tmp = spare[0, : flat.size], spare[1, : flat.size]
    _window_sums(flat, c, out=rows, tmp=tmp)  # along W: neighbours are C apart
    _window_sums(rows, w * c, out=flat, tmp=tmp)  # along H: W*C apart
    sums = stack[:, :, : h - WIN + 1, : w - WIN + 1, :]  # windows that lie inside the image
    sx, sy, s2, sxy = sums.astype(np.float64)

    # scikit-image's formula (means ux = sx/NP, sample covariances with NP/(NP-1)) multiplied
    # through by NP^2 (NP-1), so that every term but the constants is an exact integer:
    # S = (2 sx sy + c1)(2 (NP sxy - sx sy) + c2) / ((sx^2 + sy^2 + c1)(NP s2 - sx^2 - sy^2 + c2))
    npx = WIN * WIN
    c1 = (K1 * peak) ** 2 * npx * npx
    c2 = (K2 * peak) ** 2 * npx * (npx - 1)
    p = sx * sy
    q = sx * sx + sy * sy
    num = (2.0 * p + c1) * (2.0 * (npx * sxy - p) + c2)
    den = (q + c1) * (npx * s2 - q + c2)
    return (num / den).reshape(m, -1).mean(axis=1)


def _window_sums(a: np.ndarray, stride: int, out: np.ndarray, tmp: np.ndarray) -> None:
    """out[i] = a[i] + a[i + s] + ... + a[i + 6 s] (s = stride) over flat arrays, in 4 adds.

    Entries whose window crosses a row or image edge are garbage and the last 6 strides are
    zero; the caller crops both away. Whole-array contiguous slices keep numpy fast.
    """
    s, n = stride, a.size  # the doubling is written out for WIN = 7
    np.add(a[: n - s], a[s:], out=tmp[: n - s])  # terms 0-1
    np.add(tmp[: n - 3 * s], tmp[2 * s : n - s], out=out[: n - 3 * s])  # terms 0-3
    out[: n - 5 * s] += tmp[4 * s : n - s]  # terms 0-5
    out[: n - 6 * s] += a[6 * s :]  # terms 0-6
    out[n - 6 * s :] = 0


def _per_image_sum(a: np.ndarray) -> np.ndarray:
    """Exact per-image sums of an integer array (M, ...) as float64 (exact below 2^53)."""
    return a.reshape(len(a), -1).sum(axis=1, dtype=np.int64).astype(np.float64)


def _entropy_from_counts(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits per row of a histogram (rows of counts).

    -sum p log2 p with p = c / T equals (T log2 T - sum c log2 c) / T; empty bins add
    0 log2 1 = 0, and a constant image gives exactly 0 (the same product twice).
    """
    c = counts.astype(np.float64)
    total = c.sum(axis=1)
    c_log_c = (c * np.log2(np.maximum(c, 1.0))).sum(axis=1)
    return (total * np.log2(total) - c_log_c) / total


def _as_uint8(images, what: str) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"{what} must be uint8 (values 0..255), got {images.dtype}")
    return images


def _byte_counts(nbytes, overhead_bytes, n: int) -> tuple[np.ndarray, np.ndarray]:
    nbytes = np.asarray(nbytes)
    overhead = np.asarray(overhead_bytes)
    for name, value in (("nbytes", nbytes), ("overhead_bytes", overhead)):
        if value.size and not np.issubdtype(value.dtype, np.integer):
            raise TypeError(f"{name} must be integers, got {value.dtype}")
    if nbytes.shape != (n,):
        raise ValueError(f"nbytes must have one length per image, shape ({n},), got {nbytes.shape}")
    overhead = np.broadcast_to(overhead, (n,))
    if (overhead < 0).any() or (overhead > nbytes).any():
        raise ValueError("overhead_bytes must lie in 0..nbytes for every image "
                         "(the shareable header is part of the bitstream)")
    return nbytes.astype(np.float64), overhead.astype(np.float64)

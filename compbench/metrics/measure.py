"""Per-image metrics (design §3), vectorised over a batch of same-shape images: the numbers.
What each metric is (direction, format, gating, ...) is declared once, in
:mod:`compbench.metrics`; the exact definitions are in docs/metrics.md.

``image_metrics`` is called once per work unit, on thousands of small images (MNIST: 28x28) or
on a few photographs. Small images are measured a tile of them at a time (a loop that calls
scikit-image per image costs ~0.3 ms an image, SSIM alone; this ~12 µs for all metrics), a
photograph in strips of rows (:mod:`._work`), so that the pass's work arrays stay a few MB
whatever the image's size; costs per metric are in docs/metrics.md, measured by
``benchmarks/bench_metrics.py``. Everything but MS-SSIM is exact (integer sums, float64 where
they exceed float32) and unchanged from the plain numpy computation; each metric is checked
against scikit-image, scipy, pytorch-msssim or plain numpy, per image, in
``tests/test_metrics.py`` and ``tests/test_colour_metrics.py``.

Definitions (``x`` original, ``y`` reconstruction, uint8; ``P`` = H*W pixels, not samples):

- ``bytes``: the real bitstream length; ``bpp`` = 8 * bytes / P;
  ``bpp_payload`` = 8 * (bytes - overhead) / P, without the header a container could share.
- ``mse`` = mean (x - y)^2 over all samples (all channels); ``psnr`` = 10 log10(255^2 / mse),
  +inf if lossless: PSNR over all channels, as CompressAI reports it.
- ``psnr_y``: PSNR of the BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (full range, not
  rounded); ``psnr_ycbcr`` = (6 PSNR_Y + PSNR_Cb + PSNR_Cr) / 8 with the full-range chroma
  Cb = 128 + (B - Y) / 1.772, Cr = 128 + (R - Y) / 1.402 (JFIF's, unrounded; :mod:`.colour`);
  a component reproduced exactly is left out of the weighted mean (the weights renormalised),
  so the result is +inf only for a lossless image. Gray images: both equal ``psnr`` (the
  image is its own luma and has no chroma).
- ``snr_db`` = 10 log10(sum x^2 / sum (x - y)^2): +inf if lossless, -inf if x is all zero and
  y is not, NaN if both are all zero.
- ``ssim``: ``skimage.metrics.structural_similarity(x, y, data_range=255)`` with its defaults
  (7x7 uniform window, sample covariance, K1 = 0.01, K2 = 0.03, the 3-pixel border cropped),
  on the luma Y of a colour image (on each channel, averaged, for other channel counts). NaN
  when the 7x7 window does not fit (min(H, W) < 7), where scikit-image raises instead.
- ``ms_ssim`` (:func:`ms_ssim`, :mod:`.ms_ssim`): pytorch-msssim's ``ms_ssim`` (11-tap
  Gaussian, sigma 1.5, five scales, data range 255; computed in float32 with OpenCV, as
  pytorch-msssim computes, within 1e-7 of float64), per channel and averaged for colour, as
  CompressAI reports it; NaN below :data:`MS_SSIM_MIN_SIDE` pixels on the shorter side (its
  five scales do not fit). Not part of the fused pass: a metric with its own ``compute``.
- ``entropy``: Shannon entropy in bits of the 256-bin histogram of y, channels pooled (the
  paper's Fig. 8).
- ``snr_paper`` = mean(y) / std(y) (population std), 0 for a constant image: the legacy
  ``scipy.stats.signaltonoise`` of the paper's Fig. 10, which is not an SNR of the coding.
"""

from __future__ import annotations

import numpy as np

from ._work import Scratch, Strip, as_nhwc, checked_pair, opencv, opencv_pays, strips
from .colour import LUMA_PEAK, YCBCR_NUMERATORS, YCBCR_WEIGHTS, luma_and_chroma_errors, sum_squares
from .core import FUSED_METRICS  # the columns of image_metrics, named by their declarations
from .ms_ssim import MS_SSIM_MIN_SIDE, ms_ssim, ms_ssim_fits, ms_ssim_window
from .ssim import WIN, plane_sums, ssim_fits

__all__ = ["FUSED_METRICS", "MS_SSIM_MIN_SIDE", "entropy_bits", "image_metrics", "ms_ssim", "ms_ssim_fits",
           "ms_ssim_window", "psnr_from_mse", "ssim_fits"]


PEAK = 255.0  # data range of uint8 samples
#: Samples per tile of small images (83 MNIST digits): much larger tiles are slower (memory
#: traffic), smaller ones pay numpy's per-call overhead.
TILE_SAMPLES = 1 << 16
#: Samples per strip of a larger image: more than a tile, as each strip repeats 6 rows (SSIM's
#: windows reach below it); the fastest measured on scikit-image's photographs.
STRIP_SAMPLES = 1 << 17
#: but at least this many rows, however wide the image: the halo stays a small part of a strip
STRIP_MIN_ROWS = 32


def psnr_from_mse(mse):
    """PSNR in dB of 8-bit images from their MSE: 10 log10(255^2 / mse); +inf where mse == 0."""
    mse = np.asarray(mse, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(PEAK**2 / mse)


def entropy_bits(image) -> float:
    """Shannon entropy in bits of the 256-bin histogram of one uint8 image (channels pooled)."""
    image, _ = checked_pair(image, image)
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
    x, y = checked_pair(originals, reconstructions)
    if x.ndim not in (3, 4) or 0 in x.shape[1:]:
        raise ValueError(f"images must be a batch (N, H, W) or (N, H, W, C), got {x.shape}")
    n, pixels = len(x), x.shape[1] * x.shape[2]
    nbytes, overhead = _byte_counts(nbytes, overhead_bytes, n)

    out = {name: np.empty(n) for name in FUSED_METRICS}
    out["bytes"][:] = nbytes
    out["bpp"][:] = 8.0 * nbytes / pixels
    out["bpp_payload"][:] = 8.0 * (nbytes - overhead) / pixels

    x, y = as_nhwc(x), as_nhwc(y)  # one layout for gray and colour
    sums = _Sums(n, x.shape[3])
    scratch = Scratch()
    for images, strip in _tiles(x.shape):
        _tile_sums(x[images, strip.start : strip.stop], y[images, strip.start : strip.stop], strip,
                   images, sums, scratch)
    sums.into(out, x.shape)
    return out


def _tiles(shape):
    """(images, strip) to measure a batch (N, H, W, C) by: whole small images, a tile of them
    at a time, or each larger image in strips of rows (:func:`._work.strips`)."""
    n, h, w, c = shape
    if h * w * c <= TILE_SAMPLES:
        step = TILE_SAMPLES // (h * w * c)
        whole = Strip(0, h, h, max(0, h - WIN + 1))
        for start in range(0, n, step):
            yield slice(start, start + step), whole
    else:
        rows = max(STRIP_MIN_ROWS, STRIP_SAMPLES // (w * c))
        for i in range(n):
            for strip in strips(h, rows, WIN):
                yield slice(i, i + 1), strip


class _Sums:
    """What the tiles add up per image, and the metrics made of it."""

    def __init__(self, n: int, channels: int) -> None:
        self.sse = np.zeros(n)  # sum (x - y)^2, all samples
        self.signal = np.zeros(n)  # sum x^2
        self.histogram = np.zeros((n, 256))  # of y, channels pooled
        self.ycbcr = np.zeros((3, n))  # squared errors of the Y, Cb, Cr numerators (colour)
        self.ssim = np.zeros((1 if channels == 3 else channels, n))  # SSIM map sums (luma, or per channel)

    def into(self, out: dict, shape) -> None:
        n, h, w, c = shape
        out["mse"][:] = self.sse / (h * w * c)
        out["psnr"][:] = psnr_from_mse(out["mse"])
        with np.errstate(divide="ignore", invalid="ignore"):  # lossless: inf; all-zero x: -inf/NaN
            out["snr_db"][:] = 10.0 * np.log10(self.signal / self.sse)
        if c == 3:
            _ycbcr_psnrs(self.ycbcr / (h * w), out)
        else:  # gray: the image is its own luma and has no chroma
            out["psnr_y"][:] = out["psnr"]
            out["psnr_ycbcr"][:] = out["psnr"] if c == 1 else np.nan
        if ssim_fits((h, w)):
            out["ssim"][:] = self.ssim.mean(axis=0) / ((h - WIN + 1) * (w - WIN + 1))
        else:
            out["ssim"][:] = np.nan
        for start in range(0, n, 256):  # a few images at a time: the temporaries stay in cache
            counts = self.histogram[start : start + 256]
            out["entropy"][start : start + 256] = _entropy_from_counts(counts)
            out["snr_paper"][start : start + 256] = _mean_over_std(counts)


def _tile_sums(x: np.ndarray, y: np.ndarray, strip: Strip, images: slice, sums: _Sums, scratch: Scratch) -> None:
    """Add a tile's share to the ``images`` of ``sums``: x, y (K, R, W, C) are K whole images or
    a strip of one."""
    k, r, w, c = x.shape
    counts = _histograms(y[:, : strip.owned])
    sums.histogram[images] += counts
    planes = scratch.get("ssim_planes", (2, k, r, w))
    if c == 3:  # SSIM and PSNR-Y on the luma: 1000 Y, an exact integer image
        sums.ycbcr[1:, images] += luma_and_chroma_errors(x, y, strip.owned, planes, scratch)
        luma = plane_sums(planes, strip.owned, strip.windows, LUMA_PEAK, scratch)
        sums.ssim[0, images] += luma.ssim
        sums.ycbcr[0, images] += luma.squares - 2.0 * luma.products
        own_x, own_y = x[:, : strip.owned], y[:, : strip.owned]
        sums.sse[images] += sum_squares(own_x, own_y, k)
        sums.signal[images] += sum_squares(own_x, None, k)
        return
    # Gray, or any other channel count: SSIM per channel, and the squared error and the signal
    # from its exact sums of x^2 + y^2 and xy (and sum y^2, from the histogram).
    for channel in range(c):
        np.copyto(planes[0], x[..., channel])
        np.copyto(planes[1], y[..., channel])
        plane = plane_sums(planes, strip.owned, strip.windows, PEAK, scratch)
        sums.ssim[channel, images] += plane.ssim
        sums.sse[images] += plane.squares - 2.0 * plane.products
        sums.signal[images] += plane.squares
    sums.signal[images] -= counts @ np.arange(256.0) ** 2


def _histograms(y: np.ndarray) -> np.ndarray:
    """The 256-bin histogram of each of y's K items (K, ...), channels pooled: OpenCV's for
    a strip of one large image (:func:`._work.opencv_pays`); for small ones, one bincount with
    image i's values shifted into bins 256 i .. 256 i + 255. Both count exactly."""
    k = len(y)
    if opencv_pays(k, y.size):
        cv2 = opencv()
        rows = y.reshape(y.shape[1], -1)
        return cv2.calcHist([rows], [0], None, [256], [0, 256]).reshape(1, 256)
    shifted = y.reshape(k, -1) + (256 * np.arange(k))[:, None]
    return np.bincount(shifted.ravel(), minlength=256 * k).reshape(k, 256)


def _ycbcr_psnrs(mse_numerators: np.ndarray, out: dict) -> None:
    """psnr_y and psnr_ycbcr from the mean squared errors of the Y, Cb, Cr numerators (3, N)."""
    scales = np.array([scale for _, scale in YCBCR_NUMERATORS])[:, None]
    psnr = psnr_from_mse(mse_numerators / scales**2)
    out["psnr_y"][:] = psnr[0]
    # A component with no error would make the weighted mean +inf although the image is lossy
    # (an RGB image with R = G = B has no chroma to get wrong): leave it out, renormalise.
    lossy = np.isfinite(psnr)
    weights = np.array(YCBCR_WEIGHTS)[:, None] * lossy
    with np.errstate(invalid="ignore"):
        weighted = (weights * np.where(lossy, psnr, 0.0)).sum(axis=0) / weights.sum(axis=0)
    out["psnr_ycbcr"][:] = np.where(lossy.any(axis=0), weighted, np.inf)


def _entropy_from_counts(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits per row of a histogram (rows of counts).

    -sum p log2 p with p = c / T equals (T log2 T - sum c log2 c) / T; empty bins add
    0 log2 1 = 0, and a constant image gives exactly 0 (the same product twice).
    """
    c = counts.astype(np.float64)
    total = c.sum(axis=1)
    c_log_c = (c * np.log2(np.maximum(c, 1.0))).sum(axis=1)
    return (total * np.log2(total) - c_log_c) / total


def _mean_over_std(counts: np.ndarray) -> np.ndarray:
    """mean / std (population) per row of a histogram of values 0..255, 0 where std is 0:
    numpy's two-pass std, over the 256 bins instead of the samples (a constant image has one
    bin, at the mean exactly: std exactly 0)."""
    values = np.arange(256.0)
    total = counts.sum(axis=1)
    mean = counts @ values / total
    std = np.sqrt((counts * (values - mean[:, None]) ** 2).sum(axis=1) / total)
    return np.divide(mean, std, out=np.zeros(len(counts)), where=std != 0)


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

"""The harness's own metrics: their declarations, and the one list of their names.

Every part that shows, stores, compares, plots or gates a core metric reads it from here; the
numbers come from :mod:`compbench.metrics.measure`.
"""

from __future__ import annotations

from .declaration import HIGHER, LOWER, NO_DIRECTION, Metric
from .ms_ssim import MS_SSIM_MIN_SIDE, ms_ssim
from .ssimulacra2 import SSIMULACRA2_MIN_SIDE, ssimulacra2

_PSNR_LIKE = dict(better=HIGHER, infinite_when_lossless=True, quality_axis=True)

#: the harness's own per-image metrics, in column order
CORE_METRICS: tuple[Metric, ...] = (
    Metric("bytes", "bytes", "bytes", LOWER, table=False,
           description="length of the bitstream the decoder turned back into the image"),
    Metric("bpp", "bpp", "bits/pixel", LOWER, rate_axis=True, axis="rate (bits per pixel, whole file)",
           description="8 x bytes / pixels (H x W), headers included: the honest rate"),
    Metric("bpp_payload", "bpp payload", "bits/pixel", LOWER, rate_axis=True, table=False,
           axis="rate (bits per pixel, header excluded)",
           description="8 x (bytes - overhead) / pixels, without the header a container could share"),
    Metric("mse", "MSE", "", LOWER, table=False,
           description="mean squared error over all samples (all channels)"),
    Metric("psnr", "PSNR", "dB", **_PSNR_LIKE,
           description="10 log10(255^2 / mse) over all channels, as CompressAI reports it; "
                       "lossless when mse = 0"),
    Metric("psnr_y", "PSNR-Y", "dB", **_PSNR_LIKE, table=False,
           description="PSNR of the BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (full range, "
                       "unrounded); equals psnr on gray images"),
    Metric("psnr_ycbcr", "PSNR-YCbCr", "dB", **_PSNR_LIKE, table=False,
           description="(6 PSNR-Y + PSNR-Cb + PSNR-Cr) / 8, full-range BT.601 YCbCr "
                       "(Cb = 128 + (B - Y) / 1.772, Cr = 128 + (R - Y) / 1.402); a component "
                       "with no error is left out and the weights renormalised; equals psnr on "
                       "gray images"),
    Metric("snr_db", "SNR", "dB", **{**_PSNR_LIKE, "quality_axis": False}, axis="SNR (dB)",
           description="10 log10(sum x^2 / sum (x - y)^2), the signal-to-noise ratio of the coding"),
    Metric("ssim", "SSIM", "", HIGHER, fmt=".4f", quality_axis=True,
           description="scikit-image structural_similarity, data range 255, 7x7 uniform window, "
                       "on the BT.601 luma of colour images; NaN below 7x7"),
    Metric("ms_ssim", "MS-SSIM", "", HIGHER, fmt=".4f", quality_axis=True, table=False, compute=ms_ssim,
           description="MS-SSIM as pytorch-msssim computes it (11-tap Gaussian, sigma 1.5, 5 scales, "
                       "data range 255), per channel and averaged for colour, as CompressAI reports it; NaN "
                       f"for images under {MS_SSIM_MIN_SIDE} pixels on the shorter side, where "
                       "the five scales do not fit"),
    # no direction, so never gated: declared so, and manifest.json says the same as the report
    Metric("entropy", "entropy", "bits", NO_DIRECTION, gated=False,
           description="Shannon entropy of the 256-bin histogram of the reconstruction: the "
                       "paper's Fig. 8, a property of the decoded image, not a rate"),
    Metric("snr_paper", "paper SNR", "", NO_DIRECTION, gated=False, axis="paper SNR (mean / std)",
           description="mean(y) / std(y): the paper's Fig. 10 'SNR' (legacy "
                       "scipy.stats.signaltonoise), not an SNR of the coding"),
    Metric("encode_s", "encode", "s", LOWER, timing=True, table=False, fmt=".6f",
           description="encode wall time per image (batch time / batch size)"),
    Metric("decode_s", "decode", "s", LOWER, timing=True, table=False, fmt=".6f",
           description="decode wall time per image (batch time / batch size)"),
)
#: core metrics measured only when a run names them (``--metrics-extra``): costly ones
OPTIONAL_METRICS: tuple[Metric, ...] = (
    # ~0.2-0.5 s per megapixel on a CPU (docs/metrics.md, benchmarks/bench_perceptual.py): many
    # times the 60 ms/Mpx all the default metrics may cost together, so opt-in
    Metric("ssimulacra2", "SSIMULACRA 2", "", HIGHER, fmt=".2f", quality_axis=True, optional=True,
           compute=ssimulacra2,
           description="SSIMULACRA 2.1 as libjxl's ssimulacra2 tool computes it (XYB, six scales, "
                       "SSIM and edge-artifact maps, 108 weights): 100 for identical images, "
                       "~90 visually lossless, ~70 high, ~50 medium, ~30 low quality, below 0 "
                       "possible; gray images as R = G = B; NaN for images under "
                       f"{SSIMULACRA2_MIN_SIDE}x{SSIMULACRA2_MIN_SIDE} pixels, which the tool "
                       "refuses"),
)
#: whole-row numbers of a summary (not per image), with the same kind of declaration
SUMMARY_STATS: tuple[Metric, ...] = (
    Metric("errors", "errors", "images", LOWER, fmt=".0f", table=False,
           description="images whose encode or decode failed"),
    Metric("lossless", "lossless", "images", NO_DIRECTION, fmt=".0f", table=False, gated=False,
           description="images reconstructed exactly (mse = 0)"),
    Metric("bpp_pooled", "bpp pooled", "bits/pixel", LOWER, rate_axis=True, table=False,
           axis="rate (bits per pixel, pooled)", description="total bits / total pixels"),
    Metric("psnr_pooled", "PSNR pooled", "dB", HIGHER, infinite_when_lossless=True, table=False,
           description="PSNR of the mean squared error over all images (defined with lossless ones)"),
)
#: the per-image core metric names, in records.csv's column order
CORE_METRIC_NAMES = tuple(m.name for m in CORE_METRICS)
#: every name a core declaration takes (per-image metrics and summary numbers)
CORE_NAMES = frozenset(m.name for m in CORE_METRICS + SUMMARY_STATS)
TIMING_NAMES = tuple(m.name for m in CORE_METRICS if m.timing)
#: the columns of :func:`.measure.image_metrics`, in this order: the core metrics its one fused
#: pass computes (all without a ``compute`` of their own, but the runner's timings)
FUSED_METRICS = tuple(m.name for m in CORE_METRICS if m.compute is None and not m.timing)
#: per-image text column: why a metric is NaN for an image (a plugin metric that raised)
METRIC_ERROR = "metric_error"
#: the quality axes drawn by default (as before the registry): y of the RD plots and BD tables
DEFAULT_RD_METRICS = ("psnr", "ssim")

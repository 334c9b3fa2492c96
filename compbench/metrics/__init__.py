"""Metrics, a layer of their own: what each metric is (:mod:`.declaration`), the harness's own
(:mod:`.core`), the set a run measures (:mod:`.metric_set`) and the numbers (:mod:`.measure`).
Every other layer imports them from here; they import nothing of compbench but its errors (and
the helper lending 0.1's names)."""

from .._deprecation import deprecated_getattr, internal
from .core import (
    CORE_METRIC_NAMES,
    CORE_METRICS,
    CORE_NAMES,
    DEFAULT_RD_METRICS,
    METRIC_ERROR,
    OPTIONAL_METRICS,
    SUMMARY_STATS,
    TIMING_NAMES,
)
from .declaration import HIGHER, LOWER, NO_DIRECTION, PER_IMAGE_ONLY, Aggregate, Better, Metric
from .metric_set import CORE, Declarations, MetricSet, add_note, check_codec_metrics, guarded_column

__all__ = [
    "CORE", "CORE_METRICS", "CORE_METRIC_NAMES", "CORE_NAMES", "DEFAULT_RD_METRICS", "HIGHER", "LOWER",
    "METRIC_ERROR", "NO_DIRECTION", "OPTIONAL_METRICS", "PER_IMAGE_ONLY", "SUMMARY_STATS", "TIMING_NAMES",
    "Aggregate", "Better", "Declarations", "Metric", "MetricSet", "add_note", "check_codec_metrics", "guarded_column",
]

# 0.1's compbench.metrics was a module of measuring functions: its names are lent until 0.3.0
_ADVICE = "the harness measures the core metrics (docs/metrics.md); a plugin declares its own with compbench.Metric"
__getattr__ = deprecated_getattr(__name__, {
    **internal(_ADVICE, "compbench.metrics.measure", "entropy_bits", "image_metrics", "psnr_from_mse", "ssim_fits"),
    "METRICS": ("compbench.metrics.measure:FUSED_METRICS", _ADVICE),  # the keys of image_metrics, in order
}, whole_module=False)

"""Metrics, a layer of their own: what each metric is (:mod:`.declaration`), the harness's own
(:mod:`.core`), the set a run measures (:mod:`.metric_set`) and the numbers (:mod:`.measure`).
Every other layer imports them from here; they import nothing of compbench but its errors."""

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
from .metric_set import CORE, Declarations, MetricSet, check_codec_metrics

__all__ = [
    "CORE", "CORE_METRICS", "CORE_METRIC_NAMES", "CORE_NAMES", "DEFAULT_RD_METRICS", "HIGHER", "LOWER",
    "METRIC_ERROR", "NO_DIRECTION", "OPTIONAL_METRICS", "PER_IMAGE_ONLY", "SUMMARY_STATS", "TIMING_NAMES",
    "Aggregate", "Better", "Declarations", "Metric", "MetricSet", "check_codec_metrics",
]

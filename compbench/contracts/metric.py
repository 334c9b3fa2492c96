"""The metric declaration: everything that shows, stores, compares, plots or gates a metric
reads it from here (one declaration per metric)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

HIGHER, LOWER, NO_DIRECTION = "higher", "lower", "none"


@dataclass(frozen=True)
class Metric:
    """One per-image metric.

    ``compute(originals, reconstructions)`` takes a batch of same-shape uint8 images
    (N, H, W) or (N, H, W, C) and returns N floats; it is None for metrics the harness fills
    itself (bytes, timings) or a codec reports through ``Codec.extra_metrics``.
    """

    name: str
    label: str
    unit: str = ""
    #: which way is better: "higher", "lower" or "none" (informational)
    better: str = NO_DIRECTION
    #: display format of a value (Python format spec)
    fmt: str = ".3f"
    #: +inf for a lossless image (PSNR-like): means skip those images, which the summary
    #: counts in ``lossless``; shown as "lossless"
    infinite_when_lossless: bool = False
    #: compared by the regression gate unless told otherwise (timings never by default)
    gated: bool = True
    #: a wall time, noisy by nature
    timing: bool = False
    #: offered as a y-axis of rate-distortion plots
    quality_axis: bool = False
    #: offered as an x-axis (a rate) of rate-distortion plots
    rate_axis: bool = False
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    description: str = ""

    def axis_label(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label

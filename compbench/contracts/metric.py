"""The metric declaration: everything that shows, stores, compares, plots or gates a metric
reads it from here (one declaration per metric).

The harness declares its own metrics (``compbench.run.measure.CORE_METRICS``); a plugin adds
per-image metrics through the ``register_metrics`` hook, and a codec declares the metrics only
it can give in ``CodecFactory.metrics``. A run writes its declarations (all but ``compute``)
into manifest.json, so a stored run is read back with them even where the plugin is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

import numpy as np

HIGHER, LOWER, NO_DIRECTION = "higher", "lower", "none"
DIRECTIONS = (HIGHER, LOWER, NO_DIRECTION)
#: aggregated into the summary as mean, std and count; or kept per image in records.csv only
MEAN, PER_IMAGE_ONLY = "mean", "none"
AGGREGATES = (MEAN, PER_IMAGE_ONLY)
LOSSLESS_TEXT = "lossless"


@dataclass(frozen=True)
class Metric:
    """One per-image metric.

    ``compute(originals, reconstructions)`` takes a batch of same-shape uint8 images
    (N, H, W) or (N, H, W, C) and returns N floats; it is None for metrics the harness fills
    itself (bytes, timings) or a codec reports through ``Codec.extra_metrics``. It must be a
    module-level function (worker processes receive it pickled, by reference).
    """

    name: str
    #: short name for table headers ("PSNR")
    label: str
    unit: str = ""
    #: which way is better: "higher", "lower" or "none" (informational)
    better: str = NO_DIRECTION
    #: display format of a value (Python format spec)
    fmt: str = ".3f"
    #: +inf for a lossless image (PSNR-like): the summary's mean skips those images, which it
    #: counts in ``lossless``; +inf is shown as "lossless"
    infinite_when_lossless: bool = False
    #: compared by the regression gate unless told otherwise (timings never by default)
    gated: bool = True
    #: a wall time, noisy by nature: gated only with --include-timings, with a wide tolerance
    timing: bool = False
    #: offered as a y-axis of rate-distortion plots
    quality_axis: bool = False
    #: offered as an x-axis (a rate) of rate-distortion plots
    rate_axis: bool = False
    compute: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    #: the definition, one or two sentences (report, docs, tooltips)
    description: str = ""
    #: "mean": mean, std and count per class in the summary; "none": records.csv only
    aggregate: str = MEAN
    #: a column of the terminal and Markdown per-class tables
    table: bool = True
    #: axis title when it should say more than "label (unit)"
    axis: str = ""

    def __post_init__(self) -> None:
        if self.better not in DIRECTIONS:
            raise ValueError(f"metric {self.name!r}: better={self.better!r}, expected one of {DIRECTIONS}")
        if self.aggregate not in AGGREGATES:
            raise ValueError(f"metric {self.name!r}: aggregate={self.aggregate!r}, expected one of {AGGREGATES}")
        try:
            format(1.5, self.fmt)
        except (ValueError, TypeError):
            raise ValueError(f"metric {self.name!r}: fmt={self.fmt!r} is not a format spec for a float") from None

    def axis_label(self) -> str:
        if self.axis:
            return self.axis
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def display(self, value) -> str:
        """One value as tables show it: the declared format, "lossless" for the +inf of a
        lossless image, "-" for a missing (NaN) value."""
        if value is None:
            return "-"
        value = float(value)
        if math.isnan(value):
            return "-"
        if self.infinite_when_lossless and value == math.inf:
            return LOSSLESS_TEXT
        return format(value, self.fmt)

    def declaration(self) -> dict:
        """Everything but ``compute``, as JSON-ready values (for manifest.json)."""
        return {key: value for key, value in asdict(self).items() if key != "compute"}

    @classmethod
    def from_declaration(cls, data: dict) -> Metric:
        """A declaration read back from a manifest; unknown keys (a newer compbench) are skipped."""
        known = {f.name for f in fields(cls)} - {"compute"}
        return cls(**{key: value for key, value in data.items() if key in known})

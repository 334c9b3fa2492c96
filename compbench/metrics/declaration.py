"""The metric declaration: everything that shows, stores, compares, plots or gates a metric
reads it from here (one declaration per metric).

The harness declares its own metrics (:mod:`compbench.metrics.core`); a plugin adds
per-image metrics through the ``register_metrics`` hook, and a codec declares the metrics only
it can give in ``CodecFactory.metrics``. A run writes its declarations (all but ``compute``)
into manifest.json, so a stored run is read back with them even where the plugin is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from enum import StrEnum

import numpy as np


class Better(StrEnum):
    """Which way a metric is better. A ``str`` enum: it equals, prints and is stored in JSON as
    its value ("higher"), as declarations written before it existed hold it."""

    HIGHER = "higher"
    LOWER = "lower"
    NONE = "none"  # informational: the gate never judges a move


class Aggregate(StrEnum):
    """How the summary aggregates a metric: mean, std and count per class, or not at all (the
    value stays per image in records.csv)."""

    MEAN = "mean"
    PER_IMAGE_ONLY = "none"


HIGHER, LOWER, NO_DIRECTION = Better.HIGHER, Better.LOWER, Better.NONE
DIRECTIONS = tuple(Better)
MEAN, PER_IMAGE_ONLY = Aggregate.MEAN, Aggregate.PER_IMAGE_ONLY
AGGREGATES = tuple(Aggregate)
LOSSLESS_TEXT = "lossless"
#: fields holding code, not data: never written to a manifest
CODE_FIELDS = ("compute", "available")


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
    #: which way is better: :class:`Better` (or its value, "higher", "lower", "none")
    better: Better = Better.NONE
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
    #: :class:`Aggregate`: "mean" (mean, std and count per class in the summary) or "none"
    #: (records.csv only)
    aggregate: Aggregate = Aggregate.MEAN
    #: a column of the terminal and Markdown per-class tables
    table: bool = True
    #: axis title when it should say more than "label (unit)"
    axis: str = ""
    #: measured only when a run names it (``--metrics-extra NAME``): a metric too costly to
    #: compute on every run by default
    optional: bool = False
    #: whether ``compute`` can run here, for a metric whose package is an extra: a module-level
    #: callable returning :class:`compbench.Availability` (say,
    #: ``Availability.missing_module("flip_evaluator", "'compbench[perceptual]'")``); None
    #: means always. Like ``compute``, code: not stored in manifests
    available: Callable[[], object] | None = None

    def __post_init__(self) -> None:
        # plain strings (a 0.1 plugin's "higher", a manifest's JSON) become the enums
        for name, kind in (("better", Better), ("aggregate", Aggregate)):
            try:
                object.__setattr__(self, name, kind(getattr(self, name)))
            except ValueError:
                raise ValueError(f"metric {self.name!r}: {name}={getattr(self, name)!r}, expected one of "
                                 f"{tuple(v.value for v in kind)}") from None
        try:
            format(1.5, self.fmt)
        except (ValueError, TypeError):
            raise ValueError(f"metric {self.name!r}: fmt={self.fmt!r} is not a format spec for a float") from None

    def axis_label(self) -> str:
        if self.axis:
            return self.axis
        return f"{self.label} ({self.unit})" if self.unit else self.label

    def gating(self) -> str:
        """Whether ``compbench compare`` gates this metric, in words every view shows alike
        (the report, its manifest table, docs): "yes", "no" (not declared gated, or no
        direction to judge) or "with --include-timings" (a timing)."""
        if not self.gated or self.better == Better.NONE:
            return "no"
        return "with --include-timings" if self.timing else "yes"

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
        """Everything but the code (``compute``, ``available``), as JSON-ready values (for
        manifest.json), and :meth:`gating` in words."""
        fields_ = {key: str(value) if isinstance(value, StrEnum) else value
                   for key, value in asdict(self).items() if key not in CODE_FIELDS}
        # derived, for a reader of manifest.json (read back, it is recomputed, not a field)
        return {**fields_, "gating": self.gating()}

    @classmethod
    def from_declaration(cls, data: dict) -> Metric:
        """A declaration read back from a manifest; unknown keys (a newer compbench) are skipped."""
        known = {f.name for f in fields(cls)} - set(CODE_FIELDS)
        return cls(**{key: value for key, value in data.items() if key in known})

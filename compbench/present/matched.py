"""Settings at matched rates: for a target (a rate such as 0.5 bpp, or a quality such as
32 dB PSNR), each codec's setting nearest it. The visual comparisons (the report's crops,
Fig. 7) and the per-class bars all show these settings, so codecs are seen side by side at
about the same rate, not at the middles of ladders that cover different rates.

The default target is the median bpp over every lossy setting of the run. Nearness is measured
in log rate for a rate (0.4 bpp is as near 0.2 as 0.1 is: both a factor of two) and plainly for
a quality.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..contracts.errors import CompbenchError
from ..metrics import CORE, MetricSet
from ..store.summary import ALL
from .labels import heading, show

if TYPE_CHECKING:  # a run parses --compare-at before anything needs pandas (0.4 s to import)
    import pandas as pd

DEFAULT_METRIC = "bpp"


@dataclass(frozen=True)
class Target:
    """What to match: a metric and its value (None: the median of the run's settings)."""

    metric: str = DEFAULT_METRIC
    value: float | None = None

    @property
    def text(self) -> str:
        return f"{self.metric}={self.value:g}" if self.value is not None else ""


def parse_compare_at(text: str | None, declared: MetricSet | None = None) -> Target:
    """``--compare-at bpp=0.5`` / ``psnr=32``: a declared rate or quality axis and a finite
    value (a positive one for a rate); None or "" is the default target."""
    if not text:
        return Target()
    declared = declared or CORE
    metric, sep, value = text.partition("=")
    metric = metric.strip()
    axes = [m.name for m in declared if m.rate_axis or m.quality_axis]
    if metric not in axes or not sep:
        raise CompbenchError(f"--compare-at {text!r}: expected METRIC=VALUE with a rate or quality metric "
                             f"of this run, e.g. bpp=0.5 or psnr=32; metrics: {', '.join(axes)}")
    try:
        number = float(value)
    except ValueError:
        raise CompbenchError(f"--compare-at {text!r}: {value!r} is not a number") from None
    if not math.isfinite(number) or (declared.describe(metric).rate_axis and number <= 0):
        raise CompbenchError(f"--compare-at {text!r}: the value must be a finite number"
                             + (" above 0 (a rate)" if declared.describe(metric).rate_axis else ""))
    return Target(metric, number)


@dataclass(frozen=True)
class Matched:
    """Each codec's setting nearest the target, with what it achieved."""

    metric: str
    target: float
    #: how the target was chosen, for captions
    how: str
    #: codec -> its setting nearest the target, in run order
    settings: dict[str, str] = field(default_factory=dict)
    #: setting -> {"bpp": mean bpp, "psnr": mean PSNR, ...} over all images
    achieved: dict[str, dict[str, float]] = field(default_factory=dict)

    def caption(self, declared: MetricSet | None = None) -> str:
        """"each codec's setting nearest 0.52 bpp (the median over the run's settings)"."""
        metric = (declared or CORE).describe(self.metric)
        return f"each codec's setting nearest {show(metric, self.target)} {heading(metric, unit=False)} ({self.how})"


def match_settings(summary: pd.DataFrame, target: Target | None = None,
                   declared: MetricSet | None = None) -> Matched | None:
    """The matched settings of a run's summary (None when no setting has the target metric)."""
    target = target or Target()
    declared = declared or CORE
    column = f"{target.metric}_mean"
    if summary is None or summary.empty or column not in summary:
        return None
    overall = summary[summary["class"].astype(str) == ALL]
    values = overall[column].to_numpy(dtype=float)
    lossy = np.isfinite(values) & ~_lossless(overall)
    rate = declared.describe(target.metric).rate_axis
    if target.value is not None:
        goal, how = target.value, f"--compare-at {target.text}"
    elif lossy.any():
        goal, how = float(np.median(values[lossy])), "the median over the run's lossy settings"
    else:
        return None
    settings = {codec: _nearest(group, column, goal, rate) for codec, group in overall.groupby("codec", sort=False)}
    achieved = {setting: _achieved(overall[overall["setting"] == setting].iloc[0], target.metric)
                for setting in settings.values()}
    return Matched(target.metric, goal, how, settings, achieved)


def _nearest(group: pd.DataFrame, column: str, goal: float, rate: bool) -> str:
    """The setting nearest ``goal``: in log rate for a rate; a codec without a finite value
    (lossless only, for a quality target) shows its lowest-rate setting."""
    values = group[column].to_numpy(dtype=float)
    usable = np.isfinite(values) & (values > 0 if rate else True) & ~_lossless(group)
    if not usable.any():
        usable = np.isfinite(values) & (values > 0 if rate else True)
    if not usable.any():
        order = group.sort_values("bpp_mean", kind="stable") if "bpp_mean" in group else group
        return str(order["setting"].iloc[0])
    distance = np.abs(np.log(values / goal)) if rate else np.abs(values - goal)
    distance = np.where(usable, distance, np.inf)
    return str(group["setting"].iloc[int(np.argmin(distance))])  # ties: the first in run order


def _lossless(rows: pd.DataFrame) -> np.ndarray:
    if "lossless" not in rows or "count" not in rows:
        return np.zeros(len(rows), dtype=bool)
    return ((rows["count"] > 0) & (rows["lossless"] == rows["count"])).to_numpy()


def _achieved(row: pd.Series, metric: str) -> dict[str, float]:
    names = dict.fromkeys([metric, "bpp", "psnr", "ssim"])
    return {name: float(row[f"{name}_mean"]) for name in names if f"{name}_mean" in row}

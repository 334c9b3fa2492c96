"""One heading and one way of showing the values of every metric, read from its declaration, for
every view: terminal, Markdown and LaTeX tables, the report, and the plots' legends.

A metric's heading is its declared ``label`` and unit ("PSNR (dB)"). Timings are declared in
seconds, as records.csv stores them, and shown in milliseconds everywhere (a JPEG of a digit
takes 0.000043 s): the heading says "ms" and the values are scaled with it.
"""

from __future__ import annotations

import math
import re

from ..metrics import CORE, Metric, MetricSet

#: a unit shown as another, with the factor its values take: seconds as milliseconds
SHOWN_AS = {"s": ("ms", 1000.0)}
#: units a heading leaves out: a count of images reads as a number in any column
UNITS_LEFT_OUT = ("", "images")


def describe(name: str, declared: MetricSet | None = None) -> Metric:
    """The declaration of a metric or summary number (core ones when ``declared`` is None)."""
    return (declared or CORE).describe(name)


def shown_unit(metric: Metric) -> str:
    """The unit values are shown in ("ms" for a timing declared in seconds)."""
    return SHOWN_AS[metric.unit][0] if metric.timing and metric.unit in SHOWN_AS else metric.unit


def heading(metric: Metric, unit: bool = True) -> str:
    """"PSNR (dB)", "encode (ms)", "SSIM": the label, and the unit unless it is the label or a
    count."""
    shown = shown_unit(metric)
    if not unit or shown in UNITS_LEFT_OUT or shown == metric.label:
        return metric.label
    return f"{metric.label} ({shown})"


def scale(metric: Metric) -> float:
    return SHOWN_AS[metric.unit][1] if metric.timing and metric.unit in SHOWN_AS else 1.0


def shown_format(metric: Metric) -> str:
    """The format of a shown value: the declared one, with as many fewer decimals as the unit
    change moved the point (seconds .6f -> milliseconds .3f)."""
    factor = scale(metric)
    match = re.fullmatch(r"(.*)\.(\d+)([fe%])", metric.fmt)
    if factor == 1.0 or not match:
        return metric.fmt
    digits = max(0, int(match.group(2)) - round(math.log10(factor)))
    return f"{match.group(1)}.{digits}{match.group(3)}"


def show(metric: Metric, value) -> str:
    """One value as every table shows it: scaled to the shown unit, in the declared format,
    "lossless" for a lossless image's +inf, "-" for a missing value."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-" if value is None else str(value)
    if math.isnan(number):
        return "-"
    if metric.infinite_when_lossless and number == math.inf:
        return metric.display(number)
    return format(number * scale(metric), shown_format(metric))


def show_value(name: str, value, declared: MetricSet | None = None) -> str:
    """:func:`show` by metric name."""
    return show(describe(name, declared), value)

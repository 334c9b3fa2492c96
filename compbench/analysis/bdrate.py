"""Bjøntegaard delta metrics: how many bits (BD-rate) or how much quality (BD-PSNR, BD-SSIM)
one codec's rate-quality curve saves over an anchor codec's (design §3).

The definitions are those of VCEG-M33 with the piecewise cubic (PCHIP) interpolation that the
JCT-VC/JVET common test conditions adopted, as in the ``bjontegaard`` package's method="pchip":

- BD-rate: log10(rate) as a function of quality, one PCHIP per curve; the mean gap (test minus
  anchor) over the quality range both curves cover, as ``(10**gap - 1) * 100`` percent.
  Negative: the test codec needs fewer bits for the same quality.
- BD-quality: quality as a function of log10(rate); the mean gap over the log-rate range both
  curves cover, in the quality's unit (dB for PSNR). Positive: the test codec is better.

Outside the overlap nothing is extrapolated: curves that do not overlap give NaN and say why.
Problems are returned as one-line warnings (``BDResult.warnings``, the ``warning`` column of
:func:`bd_table`) for the caller to show; nothing is printed or raised for them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tabulate import tabulate

from ..contracts.errors import CompbenchError
from ..store.results_folder import metric_column
from ..store.summary import ALL

#: VCEG-M33 fits a cubic, which takes 4 points; PCHIP runs on 2 or more but says less
CUBIC_POINTS = 4
#: below this share of the two curves' combined range, the BD value describes only a sliver of
#: each curve (the bjontegaard package warns below 75%, which fires on ordinary codec pairs)
MIN_OVERLAP = 0.5
#: joins a table row's warnings; no warning contains it (report.py splits bdrate.csv on it)
WARNING_SEPARATOR = "; "
#: the method's name for display (reports, comparisons)
METHOD = "Bjontegaard delta with piecewise cubic Hermite interpolation over the overlap"


@dataclass(frozen=True)
class BDResult:
    #: BD-rate in percent or BD-quality in the quality's unit; NaN when undefined
    value: float
    #: the interval integrated over: quality for BD-rate, rate (not log) for BD-quality
    overlap: tuple[float, float]
    #: usable points of the anchor and the test curve
    points: tuple[int, int]
    warnings: tuple[str, ...] = ()
    #: the overlap's share of the wider of the two curves' ranges on the integration axis
    #: (quality for BD-rate, log rate for BD-quality): below 0.5, the overlap covers less than
    #: half of one curve; NaN when undefined
    coverage: float = math.nan


@dataclass(frozen=True)
class _Curve:
    name: str
    rate: np.ndarray      # ascending, finite, > 0
    quality: np.ndarray   # finite, in the order of rate


def bd_rate(anchor_rate, anchor_quality, test_rate, test_quality, *, anchor: str = "anchor",
            test: str = "test", quality: str = "psnr", rate: str = "bpp") -> BDResult:
    """BD-rate of the test curve against the anchor curve, in percent (negative: test saves
    bits). ``anchor``, ``test``, ``quality`` and ``rate`` only name things in warnings."""
    return _bjontegaard(anchor_rate, anchor_quality, test_rate, test_quality,
                        _Names(anchor, test, quality, rate), along_quality=True)


def bd_quality(anchor_rate, anchor_quality, test_rate, test_quality, *, anchor: str = "anchor",
               test: str = "test", quality: str = "psnr", rate: str = "bpp") -> BDResult:
    """BD-quality (BD-PSNR in dB when the quality is PSNR, BD-SSIM for SSIM) of the test curve
    against the anchor curve (positive: test is better at the same rate)."""
    return _bjontegaard(anchor_rate, anchor_quality, test_rate, test_quality,
                        _Names(anchor, test, quality, rate), along_quality=False)


@dataclass(frozen=True)
class _Names:
    anchor: str
    test: str
    quality: str
    rate: str


def _bjontegaard(anchor_rate, anchor_quality, test_rate, test_quality, names: _Names,
                 along_quality: bool) -> BDResult:
    notes: list[str] = []
    anchor = _clean_curve(names.anchor, anchor_rate, anchor_quality, names, notes)
    test = _clean_curve(names.test, test_rate, test_quality, names, notes)
    points = (len(anchor.rate), len(test.rate))
    if min(points) < 2:
        return BDResult(math.nan, (math.nan, math.nan), points, tuple(notes))

    def axes(curve: _Curve) -> tuple[np.ndarray, np.ndarray]:
        log_rate = np.log10(curve.rate)
        return (curve.quality, log_rate) if along_quality else (log_rate, curve.quality)

    (x_anchor, y_anchor), (x_test, y_test) = axes(anchor), axes(test)
    low = max(x_anchor.min(), x_test.min())
    high = min(x_anchor.max(), x_test.max())
    # report the interval in the user's units: rate, not log10(rate)
    shown = (lambda v: v) if along_quality else (lambda v: 10.0**v)
    axis = names.quality if along_quality else names.rate
    what = "BD-rate" if along_quality else f"BD-{names.quality.upper()}"
    if not high > low:
        notes.append(f"{names.test} and {names.anchor} do not overlap in {axis} "
                     f"({names.test} {_span(x_test, shown)}, {names.anchor} {_span(x_anchor, shown)}): "
                     f"{what} is undefined")
        return BDResult(math.nan, (math.nan, math.nan), points, tuple(notes))

    combined = max(x_anchor.max(), x_test.max()) - min(x_anchor.min(), x_test.min())
    if (high - low) / combined < MIN_OVERLAP:
        notes.append(f"{names.test} and {names.anchor} overlap over only {100 * (high - low) / combined:.0f}% "
                     f"of their {axis} range ({shown(low):.4g}..{shown(high):.4g}): {what} describes "
                     "a small part of the curves")
    gap = (pchip_integral(x_test, y_test, low, high)
           - pchip_integral(x_anchor, y_anchor, low, high)) / (high - low)
    value = (10.0**gap - 1.0) * 100.0 if along_quality else gap
    coverage = (high - low) / max(np.ptp(x_anchor), np.ptp(x_test))
    return BDResult(float(value), (float(shown(low)), float(shown(high))), points, tuple(notes), float(coverage))


def _span(x: np.ndarray, shown) -> str:
    return f"{shown(x.min()):.4g}..{shown(x.max()):.4g}"


def _clean_curve(name: str, rate, quality, names: _Names, notes: list[str]) -> _Curve:
    """Usable points sorted by rate; what was dropped or looks wrong goes into ``notes``."""
    rate = np.asarray(rate, dtype=float)
    quality = np.asarray(quality, dtype=float)
    if rate.shape != quality.shape or rate.ndim != 1:
        raise ValueError(f"{name}: rate and quality must be 1-d and of equal length, "
                         f"got shapes {rate.shape} and {quality.shape}")
    usable = np.isfinite(rate) & np.isfinite(quality) & (rate > 0)
    if not usable.all():
        notes.append(f"{name}: dropped {int((~usable).sum())} point(s) with a non-finite {names.quality} "
                     f"or {names.rate} (a lossless setting has psnr = inf)")
    # np.unique on (rate, quality) pairs sorts by rate and drops repeated identical points
    pairs = np.unique(np.column_stack([rate[usable], quality[usable]]), axis=0)
    curve = _Curve(name, pairs[:, 0], pairs[:, 1])
    n = len(curve.rate)
    if n < 2:
        notes.append(f"{name}: {n} usable point(s), but a rate-{names.quality} curve needs at least 2 "
                     "(run a rate sweep: --sweep)")
    elif n < CUBIC_POINTS:
        notes.append(f"{name}: only {n} points (the cubic of VCEG-M33 needs {CUBIC_POINTS}, "
                     "and PCHIP through fewer is less reliable)")
    rising = (np.diff(curve.quality) > 0) & (np.diff(curve.rate) > 0)
    if n >= 2 and not rising.all():
        i = int(np.argmin(rising))
        notes.append(f"{name}: {names.quality} does not increase with {names.rate} "
                     f"({names.quality} {curve.quality[i]:.4g} at {names.rate} {curve.rate[i]:.4g}, then "
                     f"{curve.quality[i + 1]:.4g} at {curve.rate[i + 1]:.4g}): the BD value is only indicative")
    return curve


def pchip_integral(x: np.ndarray, y: np.ndarray, low: float, high: float) -> float:
    """The integral over [low, high] (inside x's range) of the PCHIP of y(x): what scipy's
    ``PchipInterpolator(x, y).integrate(low, high)`` gives (tests hold the two to 1e-12), in
    numpy: scipy.interpolate's import alone costs ~0.3 s of CPU, more than a run's BD tables.
    x need not be increasing: a non-monotonic curve can repeat an x, so sort by x and average
    y over repeats (the curve was already flagged)."""
    x, inverse = np.unique(x, return_inverse=True)
    y = np.bincount(inverse, weights=y) / np.bincount(inverse)
    d = _pchip_slopes(x, y)
    h = np.diff(x)
    m = np.diff(y) / h
    # each piece as y_i + d_i t + b_i t^2 + a_i t^3 (t = s - x_i), as scipy's CubicHermiteSpline
    b = (3 * m - 2 * d[:-1] - d[1:]) / h
    a = (d[:-1] + d[1:] - 2 * m) / h**2
    pieces = h * (y[:-1] + h * (d[:-1] / 2 + h * (b / 3 + h * a / 4)))
    before = np.concatenate(([0.0], np.cumsum(pieces)))  # the integral from x_0 to each x_i

    def from_start(s: float) -> float:
        i = int(np.clip(np.searchsorted(x, s, side="right") - 1, 0, len(h) - 1))
        t = s - x[i]
        return before[i] + t * (y[i] + t * (d[i] / 2 + t * (b[i] / 3 + t * a[i] / 4)))

    return float(from_start(high) - from_start(low))


def _pchip_slopes(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The derivatives PCHIP gives its knots (Fritsch-Butland's weighted harmonic mean of the
    neighbouring secants, 0 at a local extremum; the ends by the shape-preserving three-point
    formula of Moler's pchiptx), as scipy's ``PchipInterpolator`` computes them."""
    h = np.diff(x)
    m = np.diff(y) / h
    if len(x) == 2:  # a line
        return np.array([m[0], m[0]])
    d = np.zeros_like(y)
    flat_or_turning = (np.sign(m[1:]) != np.sign(m[:-1])) | (m[1:] == 0) | (m[:-1] == 0)
    w1, w2 = 2 * h[1:] + h[:-1], h[1:] + 2 * h[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        harmonic = (w1 / m[:-1] + w2 / m[1:]) / (w1 + w2)
    d[1:-1] = np.where(flat_or_turning, 0.0, 1.0 / np.where(flat_or_turning, 1.0, harmonic))
    d[0] = _pchip_end_slope(h[0], h[1], m[0], m[1])
    d[-1] = _pchip_end_slope(h[-1], h[-2], m[-1], m[-2])
    return d


def _pchip_end_slope(h0: float, h1: float, m0: float, m1: float) -> float:
    slope = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    if np.sign(slope) != np.sign(m0):
        return 0.0
    if np.sign(m0) != np.sign(m1) and abs(slope) > 3 * abs(m0):
        return 3 * m0
    return slope


TABLE_COLUMNS = ["codec", "anchor", "class", "quality", "rate", "bd_rate_pct", "bd_quality",
                 "points", "anchor_points", "overlap_low", "overlap_high",
                 "rate_overlap_low", "rate_overlap_high", "warning"]


def bd_table(summary: pd.DataFrame, anchor: str, quality: str = "psnr", rate: str = "bpp",
             by_class: bool = False) -> pd.DataFrame:
    """BD-rate and BD-quality of every codec family against ``anchor`` over their settings.

    One row per codec (and per class with ``by_class``; class "all" always). ``points`` and
    ``anchor_points`` count the usable settings; ``overlap_low``/``overlap_high`` bound the
    quality range BD-rate integrates over, ``rate_overlap_*`` the rate range of BD-quality;
    ``warning`` joins every warning of the row ("" when none).
    """
    curves = summary_curves(summary, quality, rate)  # an unknown metric is refused first
    codecs = list(dict.fromkeys(summary["codec"]))
    if anchor not in codecs:
        raise CompbenchError(f"anchor codec {anchor!r} is not in the results; codecs present: "
                             f"{', '.join(codecs)}")
    tests = [codec for codec in codecs if codec != anchor]
    if not tests:
        raise CompbenchError(f"the results hold only the anchor codec {anchor!r}: BD metrics need a "
                             "second codec to compare (e.g. --codecs jpeg,jpeg2000 --sweep)")
    runs = summary[["dataset", "split"]].drop_duplicates()
    if len(runs) > 1:
        raise CompbenchError("the summary mixes datasets/splits "
                             f"({', '.join('/'.join(r) for r in runs.itertuples(index=False))}): "
                             "compute BD metrics per dataset")
    classes = list(dict.fromkeys(c for c in summary["class"] if c != ALL)) + [ALL] if by_class else [ALL]

    rows = []
    for class_name in classes:
        anchor_curve = curves[anchor, class_name]
        for codec in tests:
            test_curve = curves[codec, class_name]
            rows.append({"codec": codec, "anchor": anchor, "class": class_name,
                         **bd_row(anchor_curve, test_curve, anchor=anchor, test=codec, quality=quality, rate=rate)})
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def summary_curves(summary: pd.DataFrame, quality: str, rate: str = "bpp") -> dict:
    """(codec, class) -> that codec's (rate, quality) points in that class, one per setting; a
    pair the summary lacks gives empty arrays. Split once: filtering the frame for each curve
    took most of a comparison's time."""
    rate_values = summary[metric_column(summary, rate)].to_numpy(float)
    quality_values = summary[metric_column(summary, quality)].to_numpy(float)
    rows: dict[tuple[str, str], list[int]] = {}
    for i, key in enumerate(zip(summary["codec"].astype(str), summary["class"].astype(str))):
        rows.setdefault(key, []).append(i)
    return _Curves({key: (rate_values[at], quality_values[at]) for key, at in rows.items()})


class _Curves(dict):
    def __missing__(self, key):
        return np.empty(0), np.empty(0)


def bd_row(anchor_curve: tuple, test_curve: tuple, *, anchor: str, test: str, quality: str,
           rate: str = "bpp") -> dict:
    """BD-rate and BD-quality of one pair of (rate, quality) curves as a table row: the values,
    the points, both overlaps, ``coverage`` (of BD-rate's quality overlap, see
    :attr:`BDResult.coverage`) and the distinct warnings joined by WARNING_SEPARATOR. The one
    place every BD table (a run's, between runs, against references) computes its rows."""
    names = {"anchor": anchor, "test": test, "quality": quality, "rate": rate}
    by_rate = bd_rate(*anchor_curve, *test_curve, **names)
    by_quality = bd_quality(*anchor_curve, *test_curve, **names)
    return {
        "quality": quality, "rate": rate, "bd_rate_pct": by_rate.value, "bd_quality": by_quality.value,
        "points": by_rate.points[1], "anchor_points": by_rate.points[0],
        "overlap_low": by_rate.overlap[0], "overlap_high": by_rate.overlap[1],
        "rate_overlap_low": by_quality.overlap[0], "rate_overlap_high": by_quality.overlap[1],
        "coverage": by_rate.coverage,
        "warning": WARNING_SEPARATOR.join(dict.fromkeys(by_rate.warnings + by_quality.warnings)),
    }


def format_bd_table(table: pd.DataFrame, tablefmt: str = "simple") -> str:
    """The BD table for a terminal or Markdown, each distinct warning listed once below it."""
    if table.empty:
        return "no BD values"
    quality = table["quality"].iloc[0]
    unit = " (dB)" if quality.startswith(("psnr", "snr")) else ""
    body = [[r.codec, r.anchor, r["class"], _signed(r.bd_rate_pct, "{:+.2f}%"),
             _signed(r.bd_quality, "{:+.3f}" if unit else "{:+.4f}"), f"{r.points} vs {r.anchor_points}",
             f"{r.overlap_low:.4g}..{r.overlap_high:.4g}" if np.isfinite(r.overlap_low) else "none"]
            for _, r in table.iterrows()]
    headers = ["codec", "anchor", "class", "BD-rate", f"BD-{quality.upper()}{unit}", "points",
               f"{quality} overlap"]
    text = tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    notes = dict.fromkeys(f"warning (class {r['class']}): {note}" for _, r in table.iterrows()
                          if r.warning for note in r.warning.split(WARNING_SEPARATOR))
    return "\n".join([text, *notes])


def _signed(value: float, pattern: str) -> str:
    return pattern.format(value) if np.isfinite(value) else "n/a"

"""The data behind the report's interactive charts, as JSON for ``static/report.js``: every
setting's point per class (rate-distortion curves, a class selector), the BD values (the BD
matrix), each metric's heading and decimals, and the two hooks of issue 19: a codec x codec BD
matrix and published reference curves, drawn when given."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...metrics import MetricSet
from ...store.summary import ALL
from ..colors import codec_hex
from ..labels import heading, shown_format, shown_unit
from ..matched import Matched


@dataclass(frozen=True)
class ReferenceCurve:
    """A published rate-quality curve drawn dashed beside the run's (issue 19's reference
    curves: e.g. CompressAI's results JSON for Kodak), on the chart of its two metrics."""

    name: str
    rate: str
    quality: str
    rates: tuple[float, ...]
    qualities: tuple[float, ...]
    #: where it comes from, shown on hover
    source: str = ""


def metric_meta(names: Sequence[str], declared: MetricSet) -> dict[str, dict]:
    """name -> how the page shows it: heading, axis title, unit, decimals, direction."""
    meta = {}
    for name in dict.fromkeys(names):
        metric = declared.describe(name)
        fmt = shown_format(metric)
        decimals = int(fmt.split(".")[1][:-1]) if "." in fmt and fmt[-1] == "f" else 3
        meta[name] = {"heading": heading(metric), "label": metric.label, "unit": shown_unit(metric),
                      "axis": metric.axis_label(), "decimals": decimals, "better": str(metric.better),
                      "lossless": metric.infinite_when_lossless}
    return meta


def rd_data(summary: pd.DataFrame, declared: MetricSet, matched: Matched | None = None,
            references: Sequence[ReferenceCurve] = ()) -> dict | None:
    """Every summary row as a point (codec, setting, class, images, lossless, each rate and
    quality metric's mean and std), and what to offer as axes; None without a rate axis."""
    if summary is None or summary.empty:
        return None
    rates = [m.name for m in declared if m.rate_axis and _has(summary, m.name) and not m.name.endswith("_pooled")]
    qualities = [m.name for m in declared if m.quality_axis and _has(summary, m.name)]
    qualities = [q for i, q in enumerate(qualities)  # PSNR-Y of gray images is their PSNR
                 if not any(summary[f"{q}_mean"].equals(summary[f"{p}_mean"]) for p in qualities[:i])]
    if not rates or not qualities:
        return None
    classes = [ALL] + [c for c in dict.fromkeys(summary["class"].astype(str)) if c != ALL]
    lossless = (summary["count"] > 0) & (summary["lossless"] == summary["count"]) if "lossless" in summary \
        else pd.Series(False, index=summary.index)
    points = {"codec": summary["codec"].astype(str).tolist(), "setting": summary["setting"].astype(str).tolist(),
              "class": summary["class"].astype(str).tolist(), "count": _numbers(summary.get("count")),
              "lossless": lossless.astype(bool).tolist(),
              "mean": {m: _numbers(summary[f"{m}_mean"]) for m in rates + qualities},
              "std": {m: _numbers(summary.get(f"{m}_std")) for m in rates + qualities}}
    positive = summary[f"{rates[0]}_mean"].to_numpy(dtype=float)
    positive = positive[np.isfinite(positive) & (positive > 0)]
    wide = len(positive) > 1 and positive.max() / positive.min() > 10  # DDCAE at 0.2 beside JPEG at 8 bpp
    return {"codecs": list(codec_hex(summary["codec"].astype(str))), "colors": codec_hex(summary["codec"].astype(str)),
            "classes": classes, "rates": rates, "qualities": qualities, "points": points, "log": bool(wide),
            "meta": metric_meta(rates + qualities, declared),
            # the matched rate is a choice among a codec's settings: worth a line only with a sweep
            "target": {"metric": matched.metric, "value": matched.target}
            if matched and summary.groupby("codec")["setting"].nunique().max() > 1 else None,
            "references": [_reference(r) for r in references if r.rate in rates and r.quality in qualities]}


def _has(summary: pd.DataFrame, name: str) -> bool:
    column = summary.get(f"{name}_mean")
    return column is not None and not column.isna().all()


def _numbers(column) -> list:
    """JSON numbers: NaN and infinities become null (the lossless flag says which is which)."""
    if column is None:
        return []
    return [float(v) if math.isfinite(v) else None for v in np.asarray(column, dtype=float).tolist()]


def _reference(curve: ReferenceCurve) -> dict:
    return {"name": curve.name, "rate": curve.rate, "quality": curve.quality, "rates": list(curve.rates),
            "qualities": list(curve.qualities), "source": curve.source}


def bd_data(bdrate: pd.DataFrame | None, matrix: pd.DataFrame | None = None) -> dict | None:
    """The BD values by codec and class (a heatmap per quality metric), and issue 19's codec x
    codec matrix when given (rows: tested codec, columns: anchor, values: BD-rate in %)."""
    cells = None
    if bdrate is not None and not bdrate.empty and {"codec", "class", "quality", "bd_rate_pct"} <= set(bdrate):
        cells = {name: (_numbers(bdrate[name]) if pd.api.types.is_numeric_dtype(bdrate[name])
                        else bdrate[name].fillna("").astype(str).tolist())
                 for name in ("codec", "anchor", "class", "quality", "rate", "bd_rate_pct", "bd_quality",
                              "points", "anchor_points", "warning") if name in bdrate}
    square = None
    if matrix is not None and not matrix.empty:
        square = {"rows": [str(r) for r in matrix.index], "columns": [str(c) for c in matrix.columns],
                  "values": [_numbers(matrix.loc[r]) for r in matrix.index]}
    if cells is None and square is None:
        return None
    qualities = list(dict.fromkeys(cells["quality"])) if cells else []
    return {"cells": cells, "qualities": qualities, "matrix": square}

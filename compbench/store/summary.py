"""Summaries: per class and over all images, mean, std and count of every metric, pooled bpp
and PSNR, failures and lossless images. How each metric aggregates comes from its declaration
(:mod:`compbench.run.metric_set`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..run.metric_set import CORE, MetricSet
from .records import INFO_COLUMNS, KEY_COLUMNS

ALL = "all"


def metric_columns(records: pd.DataFrame, metrics: MetricSet | None = None) -> list[str]:
    """The metrics to aggregate: the declared ones the records hold, plus numeric columns no
    declaration names (a codec's undeclared extra) that some codec of this run reported."""
    metrics = metrics or CORE
    declared = [name for name in metrics.aggregated() if name in records.columns]
    known = set(KEY_COLUMNS + INFO_COLUMNS) | set(metrics.names)
    extra = [c for c in records.columns if c not in known and records[c].notna().any()
             and pd.api.types.is_numeric_dtype(records[c])]
    return declared + extra


def summarize(records: pd.DataFrame, class_names, metrics: MetricSet | None = None) -> pd.DataFrame:
    """Per (codec, setting, class) and over all images: mean, std and count of each metric,
    the number of failed images, and the pooled bpp (total bits / total pixels)."""
    metrics = metrics or CORE
    columns = metric_columns(records, metrics)
    group_keys = ["codec", "setting", "dataset", "split"]
    order = {name: i for i, name in enumerate(class_names)}
    rows = []
    for keys, group in records.groupby(group_keys, sort=False):
        per_class = [(name, group[group["class"] == name]) for name in sorted(group["class"].unique(), key=order.get)]
        for class_name, subset in per_class + [(ALL, group)]:
            rows.append({**dict(zip(group_keys, keys)), "class": class_name,
                         **_aggregate(subset, columns, metrics)})
    summary = pd.DataFrame(rows)
    # tables and charts read how to show each metric from here (plain JSON: pandas copies attrs)
    summary.attrs["metrics"] = metrics.declarations()
    return summary


def _aggregate(subset: pd.DataFrame, columns: list[str], metrics: MetricSet) -> dict:
    ok = subset[subset["error"] == ""]
    row = {"count": len(ok), "errors": int((subset["error"] != "").sum()),
           "lossless": int((ok["mse"] == 0).sum())}
    for name in columns:
        values = ok[name].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        if metrics.describe(name).infinite_when_lossless and np.isinf(values).any() and not np.isinf(values).all():
            # one lossless image would make the mean inf: average the lossy ones and count the
            # lossless ones in "lossless" (psnr_pooled covers all images)
            values = values[np.isfinite(values)]
        row[f"{name}_mean"] = float(np.mean(values)) if len(values) else np.nan
        row[f"{name}_std"] = float(np.std(values)) if len(values) > 1 and np.isfinite(values).all() else np.nan
    total_pixels = ok["pixels"].sum()
    row["bpp_pooled"] = float(8 * ok["bytes"].sum() / total_pixels) if total_pixels else np.nan
    # PSNR of the pooled squared error: defined with lossless images in the set
    mean_mse = ok["mse"].mean() if len(ok) else np.nan
    row["psnr_pooled"] = float(10 * np.log10(255**2 / mean_mse)) if mean_mse > 0 else (np.inf if mean_mse == 0 else np.nan)
    return row


def lossless_settings(summary: pd.DataFrame) -> set[str]:
    """Settings that reconstructed every measured image exactly (a lossless codec)."""
    overall = summary[summary["class"] == ALL]
    exact = overall[(overall["count"] > 0) & (overall["lossless"] == overall["count"])]
    return set(exact["setting"])

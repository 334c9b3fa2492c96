"""Summaries: per class and over all images, mean, std and count of every metric, pooled bpp
and PSNR, failures and lossless images."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .records import INFO_COLUMNS, KEY_COLUMNS, SUMMARY_METRICS

ALL = "all"


def metric_columns(records: pd.DataFrame) -> list[str]:
    """The metrics to aggregate: the standard ones, plus optional and plugin metrics that some
    codec of this run reported."""
    known = KEY_COLUMNS + INFO_COLUMNS + SUMMARY_METRICS
    extra = [c for c in records.columns if c not in known and records[c].notna().any()]
    return SUMMARY_METRICS + extra


def summarize(records: pd.DataFrame, class_names) -> pd.DataFrame:
    """Per (codec, setting, class) and over all images: mean, std and count of each metric,
    the number of failed images, and the pooled bpp (total bits / total pixels)."""
    metrics = metric_columns(records)
    group_keys = ["codec", "setting", "dataset", "split"]
    order = {name: i for i, name in enumerate(class_names)}
    rows = []
    for keys, group in records.groupby(group_keys, sort=False):
        per_class = [(name, group[group["class"] == name]) for name in sorted(group["class"].unique(), key=order.get)]
        for class_name, subset in per_class + [(ALL, group)]:
            rows.append({**dict(zip(group_keys, keys)), "class": class_name,
                         **_aggregate(subset, metrics)})
    return pd.DataFrame(rows)


#: metrics that are +inf for a lossless image
INFINITE_WHEN_LOSSLESS = ("psnr", "snr_db")


def _aggregate(subset: pd.DataFrame, metrics: list[str]) -> dict:
    ok = subset[subset["error"] == ""]
    row = {"count": len(ok), "errors": int((subset["error"] != "").sum()),
           "lossless": int((ok["mse"] == 0).sum())}
    for metric in metrics:
        values = ok[metric].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        if metric in INFINITE_WHEN_LOSSLESS and np.isinf(values).any() and not np.isinf(values).all():
            # one lossless image would make the mean inf: average the lossy ones and count the
            # lossless ones in "lossless" (psnr_pooled covers all images)
            values = values[np.isfinite(values)]
        row[f"{metric}_mean"] = float(np.mean(values)) if len(values) else np.nan
        row[f"{metric}_std"] = float(np.std(values)) if len(values) > 1 and np.isfinite(values).all() else np.nan
    total_pixels = ok["pixels"].sum()
    row["bpp_pooled"] = float(8 * ok["bytes"].sum() / total_pixels) if total_pixels else np.nan
    # PSNR of the pooled squared error: defined with lossless images in the set
    mean_mse = ok["mse"].mean() if len(ok) else np.nan
    row["psnr_pooled"] = float(10 * np.log10(255**2 / mean_mse)) if mean_mse > 0 else (np.inf if mean_mse == 0 else np.nan)
    return row



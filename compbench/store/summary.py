"""Summaries: per class and over all images, mean, std and count of every metric, pooled bpp
and PSNR, failures and lossless images. How each metric aggregates comes from its declaration
(:mod:`compbench.metrics`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..metrics import CORE, MetricSet
from .records import INFO_COLUMNS, KEY_COLUMNS

ALL = "all"


def metric_columns(records: pd.DataFrame, metrics: MetricSet | None = None, candidates: bool = False) -> list[str]:
    """The metrics to aggregate: the declared ones the records hold, plus numeric columns no
    declaration names (a codec's undeclared extra) that some codec of this run reported
    (``candidates``: every such column, reported here or not, to be settled over the file)."""
    metrics = metrics or CORE
    declared = [name for name in metrics.aggregated() if name in records.columns]
    known = set(KEY_COLUMNS + INFO_COLUMNS) | set(metrics.names)
    extra = [c for c in records.columns if c not in known and (candidates or records[c].notna().any())
             and pd.api.types.is_numeric_dtype(records[c])]
    return declared + extra


GROUP_KEYS = ["codec", "setting", "dataset", "split"]
#: records read at a time when summarizing records.csv (bounds the memory a summary takes)
CHUNK_ROWS = 20_000  # 50,000 held 49 MB at the peak on a 60,000-image setting, this 28 MB, and is no slower


def summarize(records: pd.DataFrame, class_names, metrics: MetricSet | None = None) -> pd.DataFrame:
    """Per (codec, setting, class) and over all images: mean, std and count of each metric,
    the number of failed images, and the pooled bpp (total bits / total pixels)."""
    metrics = metrics or CORE
    return _frame(_summary_rows(records, metric_columns(records, metrics), class_names, metrics), metrics)


def summarize_file(path, class_names, metrics: MetricSet | None = None, chunk_rows: int = CHUNK_ROWS,
                   keep=None) -> pd.DataFrame:
    """:func:`summarize` of a records.csv in canonical order, read a chunk at a time: a setting's
    rows are contiguous there, so each setting is summarized from its own rows alone and the
    whole file is never in memory. The same rows, values and columns as :func:`summarize` of
    the whole file. ``keep(chunk)``, when given, sees every chunk (to pick a few rows out)."""
    from .records import read_records

    metrics = metrics or CORE
    try:
        rows = _summary_rows_of_file(path, class_names, metrics, chunk_rows, keep)
    except _NotCanonical:  # a setting's rows are not together (not put in order): read it whole
        return summarize(read_records(path), class_names, metrics)
    return _frame(rows, metrics)


class _NotCanonical(Exception):
    pass


def _summary_rows_of_file(path, class_names, metrics: MetricSet, chunk_rows: int, keep) -> list[dict]:
    from .records import iter_records

    rows: list[dict] = []
    seen: dict[str, bool] = {}  # candidate extra column -> some setting reported it
    numeric: dict[str, bool] = {}
    # the setting being read: its rows so far, as slices of the chunks they came in (joined
    # once, when the setting ends: joining at every chunk held three copies at the peak)
    current, parts = None, []
    flushed: set[str] = set()

    def flush() -> None:
        if current in flushed:
            raise _NotCanonical
        flushed.add(current)
        frame = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        parts.clear()
        columns = metric_columns(frame, metrics, candidates=True)
        rows.extend(_summary_rows(frame, columns, class_names, metrics))

    for chunk in iter_records(path, chunk_rows):
        if keep is not None:
            keep(chunk)
        known = set(KEY_COLUMNS + INFO_COLUMNS) | set(metrics.names)
        for column in chunk.columns:
            if column not in known:
                present = bool(chunk[column].notna().any())
                seen[column] = seen.get(column, False) or present
                if present:
                    numeric[column] = numeric.get(column, True) and pd.api.types.is_numeric_dtype(chunk[column])
        settings = chunk["setting"].to_numpy()
        starts = [0, *(np.flatnonzero(settings[1:] != settings[:-1]) + 1).tolist()]  # runs of one setting
        for start, end in zip(starts, [*starts[1:], len(chunk)]):
            if end > start:
                if settings[start] != current and parts:
                    flush()
                current = settings[start]
                parts.append(chunk.iloc[start:end])
    if parts:
        flush()
    # the extras summarize() would aggregate: numeric, and reported by some setting
    wanted = {column for column, present in seen.items() if present and numeric.get(column, False)}
    dropped = [f"{c}_{s}" for c in seen if c not in wanted for s in ("mean", "std")]
    return [{k: v for k, v in row.items() if k not in dropped} for row in rows]


def _summary_rows(records: pd.DataFrame, columns: list[str], class_names, metrics: MetricSet) -> list[dict]:
    order = {name: i for i, name in enumerate(class_names)}
    rows = []
    for keys, group in records.groupby(GROUP_KEYS, sort=False):
        table = _Columns(group, columns)
        # each class's rows, in record order (one grouping, not a comparison per class)
        per_class = sorted(group.groupby("class", sort=False).indices.items(), key=lambda item: order.get(item[0]))
        for class_name, members in per_class + [(ALL, np.arange(len(group)))]:
            rows.append({**dict(zip(GROUP_KEYS, keys)), "class": class_name,
                         **_aggregate(table, members, columns, metrics)})
    return rows


class _Columns:
    """One setting's records as numpy columns, taken out of the frame once: a class's values
    are then an index away (the pandas selection per class and column cost more than the
    arithmetic)."""

    def __init__(self, group: pd.DataFrame, columns: list[str]) -> None:
        self.error = group["error"].to_numpy()
        self.values = {name: group[name].to_numpy(dtype=float) for name in {*columns, "mse", "bytes"}}
        self.pixels = group["pixels"].to_numpy()


def _aggregate(table: _Columns, members: np.ndarray, columns: list[str], metrics: MetricSet) -> dict:
    """The summary row of the records at ``members`` (row numbers, in record order)."""
    measured = members[table.error[members] == ""]  # the images that did not fail
    mse = table.values["mse"][measured]
    row = {"count": len(measured), "errors": len(members) - len(measured), "lossless": int((mse == 0).sum())}
    for name in columns:
        values = table.values[name][measured]
        values = values[~np.isnan(values)]
        if metrics.describe(name).infinite_when_lossless and np.isinf(values).any() and not np.isinf(values).all():
            # one lossless image would make the mean inf: average the lossy ones and count the
            # lossless ones in "lossless" (psnr_pooled covers all images)
            values = values[np.isfinite(values)]
        row[f"{name}_mean"] = float(np.mean(values)) if len(values) else np.nan
        row[f"{name}_std"] = float(np.std(values)) if len(values) > 1 and np.isfinite(values).all() else np.nan
    total_pixels = table.pixels[measured].sum()
    row["bpp_pooled"] = float(8 * np.nansum(table.values["bytes"][measured]) / total_pixels) if total_pixels else np.nan
    # PSNR of the pooled squared error: defined with lossless images in the set
    counted = int((~np.isnan(mse)).sum())  # NaN left out as pandas' mean does, summed the same way
    mean_mse = np.nansum(mse) / counted if counted else np.nan
    row["psnr_pooled"] = float(10 * np.log10(255**2 / mean_mse)) if mean_mse > 0 else (np.inf if mean_mse == 0 else np.nan)
    return row


def _frame(rows: list[dict], metrics: MetricSet) -> pd.DataFrame:
    summary = pd.DataFrame(rows)
    # tables and charts read how to show each metric from here (plain JSON, as in manifest.json)
    summary.attrs["metrics"] = metrics.declarations()
    return summary


def lossless_settings(summary: pd.DataFrame) -> set[str]:
    """Settings that reconstructed every measured image exactly (a lossless codec)."""
    overall = summary[summary["class"] == ALL]
    exact = overall[(overall["count"] > 0) & (overall["lossless"] == overall["count"])]
    return set(exact["setting"])

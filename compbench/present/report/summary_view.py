"""The report's tables of a summary: over all images (one row per setting) and per class (one
table per setting). Headings and values come from the metrics' declarations (:mod:`..labels`),
as in the terminal, Markdown and LaTeX tables."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ...metrics import CORE_NAMES, PER_IMAGE_ONLY, Metric, MetricSet
from ...store.summary import ALL
from ..labels import heading, show, shown_unit
from ..matched import Matched
from ..tables import table_metrics
from .view import Cell, Column, Row, Table, text_cell

#: whole-row counts before the metrics: (summary column, heading, tooltip)
COUNT_COLUMNS = (
    ("count", "images", "images measured (failed ones excluded)"),
    ("errors", "errors", "images whose encode or decode failed"),
    ("lossless", "lossless", "images reconstructed exactly (PSNR = inf)"),
)
NON_BREAKING_HYPHEN = "\u2011"
#: pooled numbers, shown just before the mean of the metric they pool
POOLED = {"bpp": "bpp_pooled", "psnr": "psnr_pooled"}


def metric_column(metric: Metric, tip: str) -> Column:
    """A metric's column: its label above, its shown unit below (one heading everywhere)."""
    unit = shown_unit(metric)
    # a non-breaking hyphen: a narrow column wraps "bpp pooled" between words, never "PSNR-|Y"
    label = heading(metric, unit=False).replace("-", NON_BREAKING_HYPHEN)
    return Column(label, "" if unit in ("", "images") else unit, tip)


def tip(metric: Metric) -> str:
    unit = f" ({metric.unit})" if metric.unit else ""
    return f"{metric.name}{unit}: {metric.description}" if metric.description else metric.name + unit


def shown_metrics(summary: pd.DataFrame, declared: MetricSet) -> list[str]:
    """The metrics of the overall table, in declared order: table columns, rates, qualities,
    timings and every codec's or plugin's metric (bytes and MSE are in summary.csv). A metric
    without a value (MS-SSIM of images too small for it) or equal to an earlier one in every row
    (PSNR-Y of gray images is their PSNR) is left out."""
    def wanted(m) -> bool:
        return m.name not in CORE_NAMES or m.table or m.rate_axis or m.quality_axis or m.timing

    names = [m.name for m in declared if m.aggregate != PER_IMAGE_ONLY and m.name not in POOLED.values()
             and wanted(m)]
    names += [c[: -len("_mean")] for c in summary.columns
              if c.endswith("_mean") and c[: -len("_mean")] not in declared]
    shown: list[str] = []
    for name in dict.fromkeys(names):
        column = summary.get(f"{name}_mean")
        if column is None or column.isna().all():
            continue
        if any(column.equals(summary[f"{other}_mean"]) for other in shown):
            continue
        shown.append(name)
    return shown


def overall_keys(summary: pd.DataFrame, declared: MetricSet) -> list[tuple[str, Metric | None, Column]]:
    """(summary column, its metric or None for a count, column) of the overall table."""
    keys = [(key, None, Column(name, "", hint)) for key, name, hint in COUNT_COLUMNS if key in summary]
    for name in shown_metrics(summary, declared):
        metric = declared.describe(name)
        if name in POOLED and POOLED[name] in summary:
            pooled = declared.describe(POOLED[name])
            keys.append((POOLED[name], pooled, metric_column(pooled, tip(pooled))))
        keys.append((f"{name}_mean", metric, metric_column(metric, "mean " + tip(metric))))
    return keys


def overall_table(summary: pd.DataFrame, declared: MetricSet, matched: Matched | None = None) -> Table:
    overall = summary[summary["class"] == ALL]
    keys = overall_keys(overall, declared)
    chosen = set(matched.settings.values()) if matched else set()
    rows = tuple(Row((Cell(str(r["setting"]), header=True, numeric=False),
                      *(value_cell(r, key, metric) for key, metric, _ in keys)),
                     cls="matched" if r["setting"] in chosen else "", data={"setting": str(r["setting"])})
                 for _, r in overall.iterrows())
    return Table("summary", (Column("setting", numeric=False), *(c for _, _, c in keys)), rows,
                 cls="sticky-first", tall=len(rows) > 12)


def per_class_tables(summary: pd.DataFrame, declared: MetricSet) -> list[PerClass]:
    """One table per setting: its classes, then all images."""
    shown = shown_metrics(summary, declared)
    metrics = table_metrics(summary, declared)
    metrics += [m for m in shown if m not in CORE_NAMES and m not in metrics]
    columns = (Column("class", numeric=False), Column("images"),
               *(metric_column(declared.describe(m), tip(declared.describe(m))) for m in metrics))
    settings = list(dict.fromkeys(summary["setting"]))
    found = []
    for setting in settings:
        group = summary[summary["setting"] == setting]
        rows = tuple(Row((Cell(str(r["class"]), header=True, numeric=False), value_cell(r, "count", None),
                          *(value_cell(r, f"{m}_mean", declared.describe(m)) for m in metrics)),
                         cls="all" if r["class"] == ALL else "class")
                     for _, r in group.iterrows())
        table = Table(f"per-class-{len(found)}", columns, rows, cls="per-class sticky-first", data={"setting": setting})
        found.append(PerClass(setting, _brief(group, declared), table, opened=len(settings) <= 3))
    return found


@dataclass(frozen=True)
class PerClass:
    setting: str
    brief: str
    table: Table
    opened: bool


def _brief(group: pd.DataFrame, declared: MetricSet) -> str:
    overall = group[group["class"] == ALL]
    if not len(overall):
        return ""
    row = overall.iloc[0]
    parts = [f"{heading(declared.describe(m))} {show(declared.describe(m), row.get(f'{m}_mean'))}"
             for m in ("bpp", "psnr", "ssim") if f"{m}_mean" in row]
    return ", ".join(parts)


def value_cell(row: pd.Series, key: str, metric: Metric | None) -> Cell:
    """A number as shown (a count as a whole number), its std as the tooltip."""
    value = row.get(key)
    if metric is None:
        return Cell("-" if value is None or _nan(value) else str(int(value)))
    std = row.get(key[: -len("_mean")] + "_std") if key.endswith("_mean") else None
    hint = f"std {show(metric, std)}" if isinstance(std, float) and math.isfinite(std) else ""
    return Cell(show(metric, value), tip=hint)


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def definitions_table(declared: MetricSet) -> Table:
    """Every metric of the run as declared: heading, unit, direction, gating, definition."""
    better = {"higher": "higher", "lower": "lower", "none": "-"}
    rows = tuple(Row((text_cell(m.name, header=True), text_cell(heading(m)), text_cell(shown_unit(m)),
                      text_cell(better[m.better]), text_cell(m.gating()),
                      text_cell(m.description + _unit_note(m), wrap=True)))
                 for m in declared)
    columns = tuple(Column(name, numeric=False) for name in
                    ("column", "heading", "shown in", "better", "gated by compare", "definition"))
    return Table("metric-definitions", columns, rows, cls="kv")


def _unit_note(metric: Metric) -> str:
    unit = shown_unit(metric)
    return f" (stored in {metric.unit}, shown in {unit})" if unit != metric.unit else ""


def failures_table(failures: pd.DataFrame | None, limit: int) -> Table | None:
    if failures is None or failures.empty:
        return None
    names = [c for c in ("setting", "index", "class", "error") if c in failures]
    rows = tuple(Row(tuple(text_cell(r[c], wrap=c == "error") for c in names))
                 for _, r in failures.head(limit).iterrows())
    return Table("failures", tuple(Column(c, numeric=False) for c in names), rows, tall=len(rows) > 12)

"""Tables of a summary as text: the rows and headings every text view shares
(:class:`TextTable`), the terminal's tables (tabulate), and any other tabulate format. Markdown
(:mod:`.markdown`) and LaTeX (:mod:`.latex`) render the same :class:`TextTable` their own way.

Which metrics are columns, their headings ("PSNR (dB)") and how their values read
("lossless", digits, milliseconds) come from their declarations (:mod:`.labels`): those of the
run (``summary.attrs["metrics"]``, set by ``summarize``, or a stored run's manifest), else the
core ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from tabulate import tabulate

from ..metrics import CORE, MetricSet
from ..store.summary import ALL
from .labels import heading, show

#: what the terminal and summary.md show per class when only core metrics ran
TABLE_METRICS = CORE.table_metrics()


def declared_metrics(summary: pd.DataFrame | None = None, manifest: dict | None = None) -> MetricSet:
    """The declarations behind a summary: its own (``attrs``), a manifest's, else the core ones."""
    declarations = (summary.attrs.get("metrics") if summary is not None else None) or \
        (manifest or {}).get("metrics")
    return MetricSet.stored({"metrics": declarations}) if declarations else CORE


def table_metrics(summary: pd.DataFrame, declared: MetricSet | None = None) -> list[str]:
    """The declared table columns (``Metric.table``) that the summary holds, in order."""
    declared = declared or declared_metrics(summary)
    return [m for m in declared.table_metrics() if f"{m}_mean" in summary.columns]


def format_value(value: float, metric: str, declared: MetricSet | None = None) -> str:
    """A value as every table shows it (:func:`.labels.show`): its format and unit, "lossless"
    for +inf where that means a lossless image, "-" for NaN."""
    return show((declared or CORE).describe(metric), value)


@dataclass(frozen=True)
class TextTable:
    """Headings and formatted cells; ``numeric`` says which columns align right."""

    headers: list[str]
    rows: list[list[str]]
    numeric: list[bool]
    #: what the table shows, for a caption
    caption: str = ""
    #: notes printed below it (BD warnings)
    notes: list[str] = field(default_factory=list)


#: whole-row counts of the overall table: (summary column, heading)
COUNTS = (("count", "images"), ("errors", "errors"), ("lossless", "lossless"))
POOLED = ("bpp_pooled", "psnr_pooled")


def overall_text(summary: pd.DataFrame, metrics: list[str] | None = None) -> TextTable:
    """One row per setting over all images: counts, pooled bpp and PSNR, the table metrics."""
    declared = declared_metrics(summary)
    metrics = table_metrics(summary, declared) if metrics is None else metrics
    overall = summary[summary["class"].astype(str) == ALL]
    counts = [(key, name) for key, name in COUNTS if key in overall]
    numbers = [m for m in POOLED if m in overall] + [f"{m}_mean" for m in metrics]
    headers = ["setting"] + [name for _, name in counts] + [heading(declared.describe(_name(k))) for k in numbers]
    rows = [[str(r["setting"])] + [_count(r[key]) for key, _ in counts]
            + [show(declared.describe(_name(k)), r[k]) for k in numbers] for _, r in overall.iterrows()]
    return TextTable(headers, rows, [False] + [True] * (len(headers) - 1), "means over all images of each setting")


def class_text(summary: pd.DataFrame, setting: str, metrics: list[str] | None = None) -> TextTable:
    """One setting's rows: its classes, then all images."""
    declared = declared_metrics(summary)
    metrics = table_metrics(summary, declared) if metrics is None else metrics
    group = summary[summary["setting"] == setting]
    headers = ["class", "images"] + [heading(declared.describe(m)) for m in metrics]
    rows = [[str(r["class"]), _count(r.get("count"))] + [show(declared.describe(m), r[f"{m}_mean"]) for m in metrics]
            for _, r in group.iterrows()]
    return TextTable(headers, rows, [False] + [True] * (len(headers) - 1), f"means per class, {setting}")


def bd_text(bdrate: pd.DataFrame | None) -> list[TextTable]:
    """One table per quality metric: every codec against the anchor over all images (the
    per-class values are in bdrate.csv and the report), each distinct warning listed below."""
    if bdrate is None or bdrate.empty:
        return []
    tables = []
    for quality, rows in bdrate[bdrate["class"].astype(str) == ALL].groupby("quality", sort=False):
        metric = CORE.describe(str(quality))
        unit = f" ({metric.unit})" if metric.unit else ""
        body = [[str(r["codec"]), str(r["anchor"]), _signed(r["bd_rate_pct"], 2), _signed(r["bd_quality"], 3),
                 f"{_count(r['points'])} vs {_count(r['anchor_points'])}"] for _, r in rows.iterrows()]
        notes = list(dict.fromkeys(f"{r['codec']}: {w.strip()}" for _, r in rows.iterrows()
                                   for w in str(r.get("warning") or "").split("; ") if w.strip()))
        anchor = ", ".join(dict.fromkeys(rows["anchor"].astype(str)))
        tables.append(TextTable(["codec", "anchor", "BD-rate (%)", f"BD-{metric.label}{unit}", "points"], body,
                                [False, False, True, True, True],
                                f"Bjøntegaard deltas against {anchor} over all images ({metric.label} vs "
                                f"{rows['rate'].iloc[0] if 'rate' in rows else 'bpp'})", notes))
    return tables


def _name(key: str) -> str:
    return key[: -len("_mean")] if key.endswith("_mean") else key


def _count(value) -> str:
    try:
        return str(int(value))
    except (TypeError, ValueError):
        return "-"


def _signed(value, digits: int) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "-"
    return f"{number:+.{digits}f}" if pd.notna(number) and abs(number) != float("inf") else "-"


# ---------------------------------------------------------------- the terminal (tabulate)


def tabulated(table: TextTable, tablefmt: str = "simple") -> str:
    return tabulate(table.rows, headers=table.headers, tablefmt=tablefmt, disable_numparse=True,
                    colalign=["right" if n else "left" for n in table.numeric])


def class_table(summary: pd.DataFrame, metrics=None, tablefmt: str = "simple") -> str:
    """Rows: classes then "all"; for each setting, the mean of each metric.

    The setting labels go on a line above their group of metric columns, so the table stays
    as narrow as the numbers.
    """
    declared = declared_metrics(summary)
    metrics = table_metrics(summary, declared) if metrics is None else metrics
    settings = list(dict.fromkeys(summary["setting"]))
    classes = list(dict.fromkeys(summary["class"]))
    # (setting, class) -> that row's means, looked up per cell (a pandas .loc per cell costs
    # ~100 us: seconds for a sweep's tables)
    means = dict(zip(zip(summary["setting"], summary["class"]),
                     zip(*(summary[f"{metric}_mean"].tolist() for metric in metrics)))) if metrics else {}
    body = []
    for class_name in classes:
        row = [class_name]
        for setting in settings:
            found = means.get((setting, class_name))
            row += ([format_value(value, metric, declared) for metric, value in zip(metrics, found)]
                    if found is not None else ["-"] * len(metrics))
        body.append(row)
    names = [heading(declared.describe(metric)) for metric in metrics]
    if tablefmt != "simple":  # one header row, the setting in each column name
        headers = ["class"] + [f"{setting} {name}" for setting in settings for name in names]
        return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    headers = ["class"] + [name for _ in settings for name in names]
    table = tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True,
                     colalign=("left",) + ("right",) * (len(headers) - 1))
    return _group_header(table, settings, len(metrics)) + "\n" + table


def _group_header(table: str, groups: list[str], width: int) -> str:
    """A line naming each group of ``width`` columns, aligned with tabulate's rule line."""
    rule = table.splitlines()[1]
    spans, start = [], 0
    for dashes in rule.split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    line = ""
    for i, group in enumerate(groups):
        first, last = spans[1 + i * width], spans[width + i * width]
        text = f" {group} ".center(last[1] - first[0], "-")
        line = line.ljust(first[0]) + text
    return line


def overall_table(summary: pd.DataFrame, metrics=None, tablefmt: str = "github") -> str:
    """One row per setting over all images, with counts and failures."""
    return tabulated(overall_text(summary, metrics), tablefmt)

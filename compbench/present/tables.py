"""Tables of a summary for the terminal, Markdown and any tabulate format (LaTeX, HTML, ...).

Which metrics are columns and how their values read ("lossless", digits) comes from their
declarations: those of the run (``summary.attrs["metrics"]``, set by ``summarize``, or a stored
run's manifest), else the core ones.
"""

from __future__ import annotations

import pandas as pd
from tabulate import tabulate

from ..contracts.errors import CompbenchError
from ..metrics import CORE, MetricSet
from ..store.summary import ALL

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
    """A value as its declaration shows it: its format, "lossless" for +inf where that means a
    lossless image, "-" for NaN."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    return (declared or CORE).describe(metric).display(number)


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
    if tablefmt != "simple":  # Markdown/LaTeX: one header row, the setting in each column name
        headers = ["class"] + [f"{setting} {metric}" for setting in settings for metric in metrics]
        return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    headers = ["class"] + [metric for _ in settings for metric in metrics]
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
    declared = declared_metrics(summary)
    metrics = table_metrics(summary, declared) if metrics is None else metrics
    overall = summary[summary["class"] == ALL]
    headers = ["setting", "images", "errors", "lossless", "bpp_pooled", "psnr_pooled"] + metrics
    body = [[r["setting"], r["count"], r["errors"], r["lossless"], format_value(r["bpp_pooled"], "bpp_pooled"),
             format_value(r["psnr_pooled"], "psnr_pooled")]
            + [format_value(r[f"{m}_mean"], m, declared) for m in metrics] for _, r in overall.iterrows()]
    return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)


#: --table-format choices: tabulate's names; the file suffix for the extra table file
TABLE_FORMATS = {"github": "md", "pipe": "md", "simple": "txt", "latex": "tex", "latex_booktabs": "tex",
                 "html": "html", "rst": "rst", "tsv": "tsv", "mediawiki": "wiki"}


def check_table_format(table_format: str) -> None:
    if table_format not in TABLE_FORMATS:
        raise CompbenchError(f"unknown table format {table_format!r}; valid: {', '.join(TABLE_FORMATS)}")


def render_tables(summary: pd.DataFrame, table_format: str) -> str:
    """The overall table and one per-class table per setting, in a tabulate format."""
    parts = [overall_table(summary, tablefmt=table_format)]
    for setting in dict.fromkeys(summary["setting"]):
        parts.append(class_table(summary[summary["setting"] == setting], tablefmt=table_format))
    return "\n\n".join(parts) + "\n"


def summary_markdown(summary: pd.DataFrame, manifest: dict) -> str:
    run = manifest.get("run", {})
    title = f"# compbench: {run.get('dataset', '?')} / {run.get('split', '?')}, {run.get('images', '?')} images"
    parts = [title, "", "## Overall", "", overall_table(summary), "", "## Per class (means)", ""]
    for setting in dict.fromkeys(summary["setting"]):
        parts += [f"### {setting}", "", class_table(summary[summary["setting"] == setting]), ""]
    return "\n".join(parts)

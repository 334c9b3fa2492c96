"""A comparison as text: for the terminal, Markdown (a CI comment) and JSON."""

from __future__ import annotations

import json
import math

import pandas as pd
from tabulate import tabulate

from ..analysis.compare import CHANGED, IMPROVEMENT, REGRESSION, UNCHANGED, Comparison
from ..metrics import MetricSet
from .tables import format_value


def comparison_markdown(comparison: Comparison, max_rows: int = 50) -> str:
    """For a CI comment: the summary line, regressions, improvements, ungated changes, the
    unchanged count, then warnings. Long tables stop at ``max_rows`` (see the JSON)."""
    parts = [f"**compbench compare: {comparison.summary_line()}**"]
    for title, rows in (("Regressions", comparison.regressions), ("Improvements", comparison.improvements),
                        ("Changed, not gated", comparison.changed)):
        if len(rows):
            parts += ["", f"### {title}", "", _moved_table(rows.head(max_rows), "github", comparison.declared)]
            if len(rows) > max_rows:
                parts.append(f"\n... and {len(rows) - max_rows} more (see the JSON report)")
    parts += ["", f"{len(comparison.unchanged)} metric value(s) unchanged."]
    if comparison.warnings:
        parts += ["", "### Warnings", "", *[f"- {w}" for w in comparison.warnings]]
    return "\n".join(parts) + "\n"


def comparison_text(comparison: Comparison) -> str:
    """For the terminal: everything that moved, worst first, then the warnings."""
    moved = _moved(comparison)
    parts = [_moved_table(moved, "simple", comparison.declared)] if len(moved) else []
    parts += [f"warning: {w}" for w in comparison.warnings] + [comparison.summary_line()]
    return "\n".join(parts)


def comparison_json(comparison: Comparison) -> str:
    """Counts, warnings and every row that moved; non-finite numbers as "inf"/"-inf"/null."""
    report = {
        "passed": comparison.passed, "baseline": comparison.baseline, "new": comparison.new,
        "counts": {str(status): int((comparison.table["status"] == status).sum())
                   for status in (REGRESSION, IMPROVEMENT, CHANGED, UNCHANGED)},
        "warnings": comparison.warnings,
        "rows": [{k: _json_value(v) for k, v in row.items()} for row in _moved(comparison).to_dict("records")],
    }
    return json.dumps(report, indent=2)


def _moved(comparison: Comparison) -> pd.DataFrame:
    return pd.concat([comparison.regressions, comparison.improvements, comparison.changed])


def _moved_table(rows: pd.DataFrame, tablefmt: str, declared: MetricSet | None = None) -> str:
    body = [[r["setting"], r["class"], r["metric"], _number(r["baseline"], r["metric"], declared),
             _number(r["new"], r["metric"], declared), _delta(r["delta"], r["delta_pct"]), r["tolerance"],
             r["status"]] for _, r in rows.iterrows()]
    headers = ["setting", "class", "metric", "baseline", "new", "delta", "tolerance", "status"]
    return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _number(value: float, metric: str, declared: MetricSet | None = None) -> str:
    # six significant digits: a change past a zero tolerance must not print as equal
    return format_value(value, metric, declared) if not math.isfinite(value) else f"{value:.6g}"


def _delta(delta: float, percent: float) -> str:
    if math.isnan(delta):
        return "-"
    return f"{delta:+.4g}" + (f" ({percent:+.2f}%)" if math.isfinite(percent) else "")


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value.item() if hasattr(value, "item") else value



"""Curves between runs as text: a terminal table, Markdown fit for a pull-request comment and
JSON, each with the gate's verdict when there is one. When the runs measured different images
(``--allow-different-images``), every table says so."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from tabulate import tabulate

from ..analysis.bd_views import grouped_warnings
from ..analysis.bdrate import METHOD
from ..analysis.curve_gate import GateVerdict
from ..analysis.curves import CurveComparison
from ..store.summary import ALL


def _unit(quality: str) -> str:
    return " (dB)" if quality.startswith(("psnr", "snr")) else ""


def _signed(value: float, pattern: str) -> str:
    return pattern.format(value) if math.isfinite(value) else "n/a"


def _overlap(row) -> str:
    if not math.isfinite(row["overlap_low"]):
        return "none"
    return f"{row['overlap_low']:.4g}..{row['overlap_high']:.4g} ({100 * row['coverage']:.0f}%)"


def rows_table(rows: pd.DataFrame, quality: str, tablefmt: str) -> str:
    """One quality metric's rows: codec, class, BD-rate, BD-quality, points, overlap."""
    body = [[r["codec"], r["class"], _signed(r["bd_rate_pct"], "{:+.2f}%"),
             _signed(r["bd_quality"], "{:+.3f}" if _unit(quality) else "{:+.4f}"),
             f"{r['base_points']} / {r['new_points']}", _overlap(r)] for _, r in rows.iterrows()]
    headers = ["codec", "class", "BD-rate", f"BD-{quality.upper()}{_unit(quality)}", "points base / new",
               f"{quality} overlap (share)"]
    return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _ordered(table: pd.DataFrame, quality: str, by_class: bool = True) -> pd.DataFrame:
    """A quality's rows, each codec's "all" first, then its classes in order."""
    rows = table[table["quality"] == quality]
    if not by_class:
        return rows[rows["class"] == ALL]
    codecs = list(dict.fromkeys(rows["codec"]))
    key = rows["codec"].map(codecs.index).to_numpy() * 2 + (rows["class"] != ALL).to_numpy()
    return rows.iloc[np.argsort(key, kind="stable")]


def _heading(comparison: CurveComparison) -> str:
    return f"BD of {comparison.new} against {comparison.base}"


def _context(comparison: CurveComparison) -> list[str]:
    """The lines every table of a comparison carries: different images, one-sided codecs."""
    lines = []
    if comparison.different_images:
        lines.append(f"DIFFERENT IMAGES ({comparison.different_images}): the curves were measured on different "
                     "images, so part of any difference is the images'")
    for side, codecs in (("base", comparison.only_base), ("new", comparison.only_new)):
        if codecs:
            lines.append(f"only in the {side} run (not compared): {', '.join(codecs)}")
    return lines


def _warnings(comparison: CurveComparison, by_class: bool = True) -> list[str]:
    """Each distinct warning once with the rows it applies to, then the notes; without
    ``by_class``, only those of the all-images rows and a count of the others."""
    table = comparison.table.assign(anchor="base")
    grouped = grouped_warnings(table if by_class else table[table["class"] == ALL])
    lines = [f"{w.text} [{'; '.join(w.rows[:3])}{' and more' if len(w.rows) > 3 else ''}]" for w in grouped]
    if not by_class:
        others = len(grouped_warnings(table[table["class"] != ALL]))
        lines += [f"{others} more warning(s) on per-class rows: see --markdown or --json"] if others else []
    return lines + list(comparison.notes)


def curves_text(comparisons: Sequence[CurveComparison], verdict: GateVerdict | None = None,
                references: pd.DataFrame | None = None) -> str:
    """For the terminal: per comparison and quality metric, every codec over all images and per
    class; then references, warnings and the gate's findings."""
    parts = []
    for comparison in comparisons:
        parts.append(f"{_heading(comparison)} ({METHOD})")
        parts += [f"note: {line}" for line in _context(comparison)]
        for quality in comparison.qualities:
            parts += ["", f"{quality}:" + (" [DIFFERENT IMAGES]" if comparison.different_images else ""),
                      rows_table(_ordered(comparison.table, quality), quality, "simple")]
        parts += [f"warning: {line}" for line in _warnings(comparison, by_class=False)] + [""]
    if references is not None and len(references):
        parts += ["reference curves against each run's codecs:", references_table(references, "simple"), ""]
    if verdict is not None:
        parts += [f"{f.outcome.upper()}: {f.new}: {f.line}" for f in verdict.findings] + [verdict.summary_line()]
    return "\n".join(parts).rstrip() + "\n"


def references_table(rows: pd.DataFrame, tablefmt: str) -> str:
    body = [[r["codec"], r["anchor"], r["quality"], _signed(r["bd_rate_pct"], "{:+.2f}%"),
             _signed(r["bd_quality"], "{:+.3f}" if _unit(r["quality"]) else "{:+.4f}"),
             f"{r['anchor_points']} / {r['points']}",
             f"{r['overlap_low']:.4g}..{r['overlap_high']:.4g}" if math.isfinite(r["overlap_low"]) else "none"]
            for _, r in rows.iterrows()]
    headers = ["reference", "against", "quality", "BD-rate", "BD-quality", "points codec / reference", "overlap"]
    return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def curves_markdown(comparisons: Sequence[CurveComparison], verdict: GateVerdict | None = None,
                    references: pd.DataFrame | None = None) -> str:
    """For a pull-request comment: the verdict first, then each comparison's overall table per
    quality metric, the per-class tables folded away, references and warnings."""
    parts = []
    if verdict is not None:
        parts += [f"**compbench curves: {verdict.summary_line()}**", ""]
        parts += [f"- {f.outcome.upper()}: `{f.new}`: {f.line}" for f in verdict.findings if f.outcome != "pass"]
        parts += [""] if any(f.outcome != "pass" for f in verdict.findings) else []
    for comparison in comparisons:
        parts += [f"### {_heading(comparison)}", "", f"_{METHOD}; negative BD-rate: the new run needs fewer bits._"]
        context = [f"> **{line}**" if line.startswith("DIFFERENT") else f"- {line}" for line in _context(comparison)]
        parts += ["", *context] if context else []
        for quality in comparison.qualities:
            mark = " (different images)" if comparison.different_images else ""
            parts += ["", f"#### {quality}, all images{mark}", "",
                      rows_table(_ordered(comparison.table, quality, by_class=False), quality, "github"),
                      "", f"<details><summary>{quality} per class{mark}</summary>", "",
                      rows_table(_ordered(comparison.table, quality)[lambda r: r["class"] != ALL], quality, "github"),
                      "", "</details>"]
        warnings = _warnings(comparison)
        if warnings:
            parts += ["", f"<details><summary>{len(warnings)} warning(s)</summary>", "", *[f"- {w}" for w in warnings],
                      "", "</details>"]
        parts.append("")
    if references is not None and len(references):
        parts += ["### Reference curves against each run's codecs", "", references_table(references, "github"), ""]
    return "\n".join(parts).rstrip() + "\n"


def curves_json(comparisons: Sequence[CurveComparison], verdict: GateVerdict | None = None,
                references: pd.DataFrame | None = None) -> str:
    """Every row of every comparison; non-finite numbers as null."""
    report = {
        "method": METHOD,
        "comparisons": [{"base": c.base, "new": c.new, "different_images": c.different_images,
                         "only_base": list(c.only_base), "only_new": list(c.only_new), "notes": list(c.notes),
                         "rows": _records(c.table)} for c in comparisons],
        "references": _records(references) if references is not None else [],
    }
    if verdict is not None:
        report["gate"] = {"limit_pct": verdict.limit_pct, "exit_code": verdict.exit_code,
                          "summary": verdict.summary_line(),
                          "findings": [{"codec": f.codec, "new": f.new, "outcome": str(f.outcome), "line": f.line,
                                        "bd_rate_pct": _number(f.bd_rate_pct), "coverage": _number(f.coverage)}
                                       for f in verdict.findings]}
    return json.dumps(report, indent=2) + "\n"


def _records(table: pd.DataFrame) -> list[dict]:
    return [{k: _number(v) for k, v in row.items()} for row in table.to_dict("records")]


def _number(value):
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and not math.isfinite(value) else value

"""A run's BD step on the terminal: the tables against the anchor over all images (the per-class
rows are in bdrate.csv and the report), the reference curves' rows, and, when there is no table,
why, in one line."""

from __future__ import annotations

from ..analysis.bdrate import format_bd_table
from ..store.summary import ALL


def run_bd_text(result, tablefmt: str = "simple") -> tuple[str, list[str]]:
    """What to print for a :class:`~compbench.pipeline.result.RunResult`: the tables (standard
    output) and the notes (standard error, one line each)."""
    parts, notes = [], []
    if result.bdrate is not None:
        overall = result.bdrate[result.bdrate["class"] == ALL]
        for quality, table in overall.groupby("quality", sort=False):
            parts += [f"\nBD metrics against {result.bd_anchor} ({quality}):", format_bd_table(table, tablefmt)]
    elif result.bd_reason:
        notes.append(f"note: {result.bd_reason}")
    if result.reference_bdrate is not None:
        for quality, table in result.reference_bdrate.groupby("quality", sort=False):
            parts += [f"\nreference curves against the run's codecs ({quality}):", format_bd_table(table, tablefmt)]
    notes += [f"note: {line}" for line in (result.manifest.get("bd") or {}).get("notes", [])]
    return "\n".join(parts), notes

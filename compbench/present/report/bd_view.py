"""bdrate.csv as the report shows it: a table (a few columns merged for reading: points
"8 vs 8", overlaps "lo..hi"), its warnings numbered once below it and referenced from each row;
columns this module does not know are shown as they are."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from ...analysis.bdrate import WARNING_SEPARATOR
from .view import Cell, Column, Row, Table, text_cell

#: bdrate.csv columns as shown: (heading, column, second column merged in, format)
BD_COLUMNS = (
    ("codec", "codec", None, "text"), ("anchor", "anchor", None, "text"),
    ("class", "class", None, "text"), ("quality", "quality", None, "text"),
    ("rate", "rate", None, "text"), ("BD-rate (%)", "bd_rate_pct", None, "signed2"),
    ("BD-quality", "bd_quality", None, "signed3"), ("points", "points", "anchor_points", "vs"),
    ("quality overlap", "overlap_low", "overlap_high", "range"),
    ("rate overlap", "rate_overlap_low", "rate_overlap_high", "range"),
)


@dataclass(frozen=True)
class BDView:
    table: Table
    #: distinct warnings in order: (number, text)
    warnings: tuple[tuple[int, str], ...]
    warned: int


def bd_view(bdrate: pd.DataFrame | None) -> BDView | None:
    if bdrate is None or bdrate.empty:
        return None
    columns = [spec for spec in BD_COLUMNS if spec[1] in bdrate]
    known = {name for _, first, second, _ in columns for name in (first, second) if name} | {"warning"}
    extra = [c for c in bdrate.columns if c not in known]
    notes: dict[str, int] = {}  # distinct warning -> its number
    rows = []
    for _, r in bdrate.iterrows():
        cells = [_cell(r, first, second, kind) for _, first, second, kind in columns]
        cells += [_cell(r, c, None, "number" if pd.api.types.is_numeric_dtype(bdrate[c]) else "text") for c in extra]
        refs = [notes.setdefault(w, len(notes) + 1) for w in warnings_of(r.get("warning", ""))]
        cells.append(Cell(", ".join(map(str, refs)), numeric=False, href=f"#bd-warning-{refs[0]}" if refs else ""))
        rows.append(Row(tuple(cells), cls="warn" if refs else "ok"))
    heads = ([Column(h, numeric=kind != "text") for h, _, _, kind in columns]
             + [Column(c, numeric=False) for c in extra] + [Column("warnings", numeric=False)])
    table = Table("bdrate", tuple(heads), tuple(rows), tall=len(rows) > 14)
    return BDView(table, tuple((n, text) for text, n in notes.items()), sum(r.cls == "warn" for r in rows))


def _cell(row: pd.Series, column: str, second: str | None, kind: str) -> Cell:
    value = row[column]
    other = row.get(second) if second else None
    if kind == "text" or isinstance(value, str):
        return text_cell(value)
    if kind.startswith("signed"):
        text = _signed(value, int(kind[-1]))
    elif kind == "vs":
        text = _int(value) + (f" vs {_int(other)}" if second in row else "")
    elif kind == "range":
        text = (f"{value:.4g}..{other:.4g}" if second in row and math.isfinite(value) and math.isfinite(other)
                else "none" if second in row else f"{value:.4g}")
    else:
        text = "-" if _missing(value) else f"{float(value):.3f}"
    return Cell(text)


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _int(value) -> str:
    return "-" if _missing(value) else str(int(value))


def _signed(value, digits: int) -> str:
    return "-" if _missing(value) or not math.isfinite(float(value)) else f"{float(value):+.{digits}f}"


def warnings_of(value) -> list[str]:
    """The distinct warnings of one bdrate.csv row."""
    return list(dict.fromkeys(w.strip() for w in str(value or "").split(WARNING_SEPARATOR) if w.strip()))

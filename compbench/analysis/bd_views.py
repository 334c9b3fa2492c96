"""Views of BD tables (:func:`.bdrate.bd_table`, :func:`.run_bd.run_bd`) for reading: the
matrix of overall figures, and the warnings each listed once with the rows they apply to."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..store.summary import ALL
from .bdrate import WARNING_SEPARATOR


def bd_matrix(table: pd.DataFrame, value: str = "bd_rate_pct", class_name: str = ALL) -> pd.DataFrame:
    """Codec x quality metric: one row per (codec, anchor) pair, in table order, with columns
    ``codec``, ``anchor`` and one per quality metric (table order) holding ``value``
    (``bd_rate_pct`` or ``bd_quality``) for ``class_name``; NaN where undefined or absent."""
    rows = table[table["class"].astype(str) == str(class_name)]
    qualities = list(dict.fromkeys(rows["quality"]))
    pairs = list(dict.fromkeys(zip(rows["codec"], rows["anchor"])))
    values = rows.set_index(["codec", "anchor", "quality"])[value]
    return pd.DataFrame([{"codec": codec, "anchor": anchor,
                          **{q: float(values.get((codec, anchor, q), float("nan"))) for q in qualities}}
                         for codec, anchor in pairs], columns=["codec", "anchor", *qualities])


@dataclass(frozen=True)
class GroupedWarning:
    """One distinct warning and the table rows it applies to ("jpeg vs jpeg2000, psnr, class 3")."""

    text: str
    rows: tuple[str, ...]


def grouped_warnings(table: pd.DataFrame) -> list[GroupedWarning]:
    """Each distinct warning of the table once, in order of first appearance, with its rows."""
    rows: dict[str, list[str]] = {}
    for _, row in table.iterrows():
        if not isinstance(row["warning"], str) or not row["warning"]:
            continue
        where = f"{row['codec']} vs {row['anchor']}, {row['quality']}, " + \
                ("all images" if str(row["class"]) == ALL else f"class {row['class']}")
        for text in row["warning"].split(WARNING_SEPARATOR):
            rows.setdefault(text, []).append(where)
    return [GroupedWarning(text, tuple(dict.fromkeys(where))) for text, where in rows.items()]

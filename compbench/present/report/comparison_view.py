"""The report's visual comparison at matched rates (1:1 crops, with each image's bpp and PSNR)
and the worst images of each codec at its matched setting."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...metrics import MetricSet
from ..labels import heading, show
from ..matched import Matched
from ..per_image import PerImage
from ..side_by_side import Sample, crop_rows
from .view import Cell, Column, Row, Table


@dataclass(frozen=True)
class CropCell:
    title: str
    uri: str | None
    stats: str


@dataclass(frozen=True)
class CropRow:
    index: int
    class_name: str
    name: str
    box_text: str
    width: int
    height: int
    cells: tuple[CropCell, ...]


@dataclass(frozen=True)
class Comparison:
    caption: str
    crop_text: str
    #: (codec, its setting) per column, the original first
    columns: tuple[tuple[str, str], ...]
    rows: tuple[CropRow, ...]


def comparison(samples: Sequence[Sample], matched: Matched | None, declared: MetricSet) -> Comparison | None:
    if not samples or matched is None:
        return None
    rows = crop_rows(samples, matched.settings)
    if not rows:
        return None
    bpp, psnr = declared.describe("bpp"), declared.describe("psnr")
    shown = []
    for row in rows:
        top, left, height, width = row.box
        whole = (height, width) == tuple(row.shape[:2])
        box = "whole image" if whole else f"crop at ({left}, {top}) of {row.shape[1]}x{row.shape[0]}"
        cells = tuple(CropCell(c.title, c.uri, "" if c.title == "original" else
                               f"{show(bpp, c.bpp)} bpp, {_psnr(psnr, c.psnr)}") for c in row.cells)
        shown.append(CropRow(row.index, row.class_name, row.name, box, width * row.zoom, height * row.zoom, cells))
    first = rows[0]
    side = max(first.box[2], first.box[3])
    crop_text = f"{side} px shown at {first.zoom}x, pixels unsmoothed" if first.zoom > 1 else f"up to {side} px at 1:1"
    columns = (("original", ""), *((codec, setting) for codec, setting in matched.settings.items()))
    return Comparison(matched.caption(declared)[0].upper() + matched.caption(declared)[1:], crop_text,
                      columns, tuple(shown))


def _psnr(metric, value: float) -> str:
    text = show(metric, value)
    return text if text in ("lossless", "-") else f"{text} dB"


@dataclass(frozen=True)
class WorstTable:
    codec: str
    setting: str
    table: Table


def worst_tables(table: PerImage | None, matched: Matched | None, declared: MetricSet,
                 names: dict[int, str]) -> list[WorstTable]:
    """For each codec at its matched setting: its worst images (on the table's worst metric)."""
    if table is None or matched is None or table.worst_metric not in table.metrics:
        return []
    metric = table.worst_metric
    found = table.worst(matched.settings)
    shown = [m for m in dict.fromkeys(["bpp", metric, "ssim"]) if m in table.metrics]
    columns = (Column("image", numeric=False), Column("class", numeric=False),
               *(Column(heading(declared.describe(m))) for m in shown), Column("error", numeric=False))
    tables = []
    for k, (codec, frame) in enumerate(found.items()):
        rows = tuple(_worst_row(r, shown, declared, names) for _, r in frame.iterrows())
        tables.append(WorstTable(codec, matched.settings[codec], Table(f"worst-{k}", columns, rows, cls="sticky-first")))
    return tables


def _worst_row(row: pd.Series, shown: list[str], declared: MetricSet, names: dict[int, str]) -> Row:
    index = int(row["index"])
    name = f"{index} {names[index]}" if names.get(index) else str(index)
    values = (Cell(show(declared.describe(m), row[m])) for m in shown)
    error = str(row["error"]) if isinstance(row["error"], str) else ""
    return Row((Cell(name, header=True, numeric=False), Cell(str(row["class"]), numeric=False), *values,
                Cell(error, numeric=False, wrap=bool(error))), data={"index": str(index)})


def sample_stats(records: pd.DataFrame | None, setting: str, index: int) -> tuple[float, float]:
    """bpp and PSNR of one image under one setting (NaN where absent)."""
    if records is None or records.empty:
        return np.nan, np.nan
    rows = records[(records["setting"] == setting) & (records["index"] == index)]
    if rows.empty:
        return np.nan, np.nan
    return float(rows["bpp"].iloc[0]), float(rows["psnr"].iloc[0])

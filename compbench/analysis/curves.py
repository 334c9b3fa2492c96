"""Curves between runs: each codec's rate-quality curve in a new run against its curve in a base
run, whatever settings each ran (``compare --curves``).

Codecs are matched by name; a codec on one side only is listed as such. For every quality
metric both runs measured (a declared quality axis with values on both sides) the BD-rate and
BD-quality of NEW against BASE are computed per codec, over all images and per class, by the
same code as a run's own BD tables (:func:`.bdrate.bd_row`). Runs over different images are
refused unless ``allow_different_images``; the comparison then carries what differs, for every
table to say.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..contracts.errors import CompbenchError
from ..metrics import MetricSet
from ..store.results_folder import ResultsFolder, metric_column, open_results, summary_metrics
from ..store.summary import ALL
from .bdrate import bd_row, summary_curves
from .inputs import check_same_inputs, input_differences, version_warnings
from .references import ReferenceCurve
from .run_bd import reference_bd_table
from .scope import comparison_scope

#: the rate axis of every curve
RATE = "bpp"
COLUMNS = ["codec", "class", "quality", "bd_rate_pct", "bd_quality", "base_points", "new_points",
           "overlap_low", "overlap_high", "coverage", "rate_overlap_low", "rate_overlap_high", "warning"]
ALLOW_HINT = " (or compare the curves anyway with --allow-different-images)"


@dataclass(frozen=True)
class CurveComparison:
    """NEW's curves against BASE's: one row per (codec, class, quality metric), classes in the
    dataset's order and "all" last (:data:`COLUMNS`)."""

    base: str
    new: str
    table: pd.DataFrame
    #: codecs of one run only (not compared)
    only_base: tuple[str, ...] = ()
    only_new: tuple[str, ...] = ()
    #: one line each: what was left out, software that differs
    notes: tuple[str, ...] = ()
    #: what differs between the runs' images (only with allow_different_images), else None
    different_images: str | None = None

    @property
    def codecs(self) -> list[str]:
        return list(dict.fromkeys(self.table["codec"]))

    @property
    def qualities(self) -> list[str]:
        return list(dict.fromkeys(self.table["quality"]))

    def overall(self, quality: str | None = None) -> pd.DataFrame:
        rows = self.table[self.table["class"] == ALL]
        return rows if quality is None else rows[rows["quality"] == quality]


def run_label(run: ResultsFolder) -> str:
    """A run's short name: its folder's name."""
    return run.folder.name or str(run.folder)


def compare_curves(base: str | Path | ResultsFolder, new: str | Path | ResultsFolder,
                   codecs: Sequence[str] | None = None, allow_different_images: bool = False) -> CurveComparison:
    """BD-rate and BD-quality of each codec's curve in ``new`` against its curve in ``base``
    (results folders or summary.csv files, or opened folders); ``codecs``: only these (each
    must be in both runs)."""
    base, new = (run if isinstance(run, ResultsFolder) else open_results(run) for run in (base, new))
    differences = input_differences(base, new)
    if not allow_different_images:
        check_same_inputs(base, new, hint=ALLOW_HINT)
    scope = comparison_scope(base.summary, new.summary, codecs, sides=(f"base {base.path}", f"new {new.path}"))
    names = [list(dict.fromkeys(s["codec"])) for s in (scope.base, scope.new)]
    shared = [codec for codec in names[0] if codec in names[1]]
    qualities, left_out = shared_qualities(base, new, scope.base, scope.new)
    labels = (run_label(base), run_label(new))
    if labels[0] == labels[1]:
        labels = ("base", "new")
    rows = [row for quality in qualities for row in
            _rows(scope.base, scope.new, shared, quality, labels)]
    table = pd.DataFrame(rows, columns=COLUMNS)
    return CurveComparison(
        str(base.path), str(new.path), table,
        tuple(c for c in names[0] if c not in shared), tuple(c for c in names[1] if c not in shared),
        (*scope.notes, *left_out, *version_warnings(base.manifest, new.manifest)),
        "; ".join(differences) if differences else None)


def shared_qualities(base: ResultsFolder, new: ResultsFolder, base_rows: pd.DataFrame,
                     new_rows: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The quality metrics both runs measured (declared quality axes with a value on each side)
    and a note for each quality axis left out for want of values."""
    declared = MetricSet.stored(new.manifest).merged(MetricSet.stored(base.manifest))
    columns = [m for m in summary_metrics(base_rows) if m in summary_metrics(new_rows)
               and declared.describe(m).quality_axis]
    measured, notes = [], []
    for metric in columns:
        empty = [side for side, rows in (("base", base_rows), ("new", new_rows))
                 if not rows[metric_column(rows, metric)].notna().any()]
        same = next((m for m in measured if _same_values(metric, m, base_rows, new_rows)), None)
        if empty:
            notes.append(f"{metric} left out: no value in the {' and the '.join(empty)} run "
                         "(not measured on these images)")
        elif same:
            notes.append(f"{metric} left out: equal to {same} in both runs (as on gray images)")
        else:
            measured.append(metric)
    if RATE not in summary_metrics(base_rows) or RATE not in summary_metrics(new_rows) or not measured:
        raise CompbenchError(f"{base.path} and {new.path} share no rate-quality curve: both need bpp and a "
                             "quality metric (psnr, ssim, ...)")
    return measured, notes


def _same_values(metric: str, other: str, *summaries: pd.DataFrame) -> bool:
    """Whether two metrics hold the same values in every summary (psnr_y and psnr on gray)."""
    return all(np.array_equal(s[metric_column(s, metric)].to_numpy(float), s[metric_column(s, other)].to_numpy(float),
                              equal_nan=True) for s in summaries)


def _rows(base: pd.DataFrame, new: pd.DataFrame, codecs: list[str], quality: str,
          labels: tuple[str, str]) -> list[dict]:
    classes = [c for c in dict.fromkeys(base["class"]) if c != ALL and c in set(new["class"])] + [ALL]
    before, after = summary_curves(base, quality, RATE), summary_curves(new, quality, RATE)
    rows = []
    for codec in codecs:
        for class_name in classes:
            row = bd_row(before[codec, class_name], after[codec, class_name],
                         anchor=f"{codec} in {labels[0]}", test=f"{codec} in {labels[1]}", quality=quality)
            row["base_points"], row["new_points"] = row.pop("anchor_points"), row.pop("points")
            rows.append({"codec": codec, "class": class_name, **row})
    return rows


def references_against_runs(runs: Sequence[ResultsFolder], references: Sequence[ReferenceCurve],
                            comparisons: Sequence[CurveComparison]) -> pd.DataFrame | None:
    """Each reference curve against each codec (with a curve) of every run, over all images, for
    the qualities the comparisons compared; the anchor column names the run ("jpeg in run-a").
    None without references."""
    if not references or not comparisons:
        return None
    qualities = list(dict.fromkeys(q for c in comparisons for q in c.qualities))
    tables = []
    for run in runs:
        table, _ = reference_bd_table(run.summary, references, qualities)
        if table is not None:
            tables.append(table.assign(anchor=table["anchor"] + f" in {run_label(run)}"))
    return pd.concat(tables, ignore_index=True) if tables else None

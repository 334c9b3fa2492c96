"""A run's curves in the formats :mod:`.references` reads: CompressAI's results JSON (one per
codec, for CompressAI's plotting tool) and the plain CSV. Numbers are written with all their
digits, so exporting and reading back gives the same curves exactly."""

from __future__ import annotations

import csv
import io
import json
import math

from ..metrics import MetricSet
from ..store.results_folder import ResultsFolder, metric_column, summary_metrics
from ..store.summary import ALL
from .references import COMPRESSAI_KEYS, RATE, ReferenceCurve


def run_curves(run: ResultsFolder) -> tuple[list[ReferenceCurve], list[str]]:
    """Each codec's curve over all images, settings in rate order, with every quality axis the
    run measured; and a note for each point left out (a lossless or failed setting has no
    finite quality; CompressAI's format has no place for it)."""
    summary = run.summary[run.summary["class"] == ALL]
    declared = MetricSet.stored(run.manifest)
    qualities = [m for m in summary_metrics(summary) if declared.describe(m).quality_axis
                 and summary[metric_column(summary, m)].notna().any()]
    description = _description(run)
    curves, notes = [], []
    for codec, rows in summary.groupby("codec", sort=False):
        columns = [metric_column(rows, m) for m in [RATE, *qualities]]
        values = rows.sort_values(metric_column(rows, RATE), kind="stable")[["setting", *columns]]
        finite = values[columns].apply(lambda col: col.map(math.isfinite)).all(axis=1)
        notes += [f"{codec}: {setting} left out (a quality or the rate is not finite: lossless or failed)"
                  for setting in values.loc[~finite, "setting"]]
        kept = values[finite]
        curves.append(ReferenceCurve(codec, str(run.folder), description,
                                     tuple(kept[columns[0]].astype(float)),
                                     tuple((m, tuple(kept[c].astype(float))) for m, c in zip(qualities, columns[1:]))))
    return curves, notes


def _description(run: ResultsFolder) -> str:
    manifest = run.manifest or {}
    facts = manifest.get("run") or {}
    where = f"{facts.get('dataset', '?')}/{facts.get('split', '?')}, {facts.get('images', '?')} images"
    commit = (manifest.get("git_commit") or "")[:12]
    return f"compbench {manifest.get('compbench', '?')}{' @' + commit if commit else ''}: {where}"


def compressai_json(curve: ReferenceCurve) -> str:
    """CompressAI's results JSON of one curve (psnr as psnr-rgb, ms_ssim as ms-ssim-rgb)."""
    results = {RATE: list(curve.bpp), **{COMPRESSAI_KEYS.get(m, m): list(v) for m, v in curve.qualities}}
    return json.dumps({"name": curve.name, "description": curve.description, "results": results}, indent=2) + "\n"


def curves_csv(curves: list[ReferenceCurve]) -> str:
    """The plain CSV of several curves: name, bpp and every metric any of them has, one row per
    point (a metric a curve lacks is an empty cell)."""
    metrics = list(dict.fromkeys(m for curve in curves for m in curve.metrics))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["name", RATE, *metrics])
    for curve in curves:
        values = dict(curve.qualities)
        for i, rate in enumerate(curve.bpp):
            writer.writerow([curve.name, repr(rate), *(repr(values[m][i]) if m in values else "" for m in metrics)])
    return out.getvalue()

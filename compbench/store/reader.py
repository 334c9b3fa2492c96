"""Reading stored runs: a results folder's summary.csv and manifest.json, checked on the way in
(used by compare, history and the BD tables)."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..contracts.errors import CompbenchError

#: what identifies a summary row
KEYS = ["codec", "setting", "dataset", "split", "class"]


@dataclass(frozen=True)
class StoredRun:
    path: Path
    summary: pd.DataFrame
    #: manifest.json beside the summary, if there is one
    manifest: dict | None


def load_run(path: str | Path) -> StoredRun:
    """A results folder (or its summary.csv) as written by ``compbench run``."""
    path = Path(path)
    summary_path = path / "summary.csv" if path.is_dir() else path
    if not path.exists():
        raise CompbenchError(f"{path}: no such results folder or summary.csv")
    if not summary_path.is_file():
        raise CompbenchError(f"{path} has no summary.csv: pass a results folder written by "
                             "`compbench run`, or its summary.csv")
    manifest_path = summary_path.parent / "manifest.json"
    manifest = _read_manifest(manifest_path) if manifest_path.is_file() else None
    run = StoredRun(path, _read_summary(summary_path), manifest)
    _check_complete(run)
    return run


def _read_summary(path: Path) -> pd.DataFrame:
    _check_whole_rows(path)
    try:
        # keys stay text: class "0" must not become the number 0
        summary = pd.read_csv(path, dtype={key: str for key in KEYS})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CompbenchError(f"{path} does not parse as a summary CSV ({reason})") from None
    missing = [key for key in KEYS if key not in summary.columns]
    if missing:
        raise CompbenchError(f"{path} is not a compbench summary: no column {', '.join(missing)}")
    for name in _metric_names(summary.columns):
        column = metric_column(summary, name)
        if not pd.api.types.is_numeric_dtype(summary[column]):
            raise CompbenchError(f"{path}: column {column!r} holds text where numbers belong")
    if summary[KEYS].isna().any().any():
        raise CompbenchError(f"{path}: some rows lack a {'/'.join(KEYS)} value")
    repeated = summary[summary.duplicated(KEYS)]
    if len(repeated):
        raise CompbenchError(f"{path}: rows repeat for {name_rows(repeated)}")
    return summary


def _check_whole_rows(path: Path) -> None:
    """A summary cut short (a full disk, a killed copy) parses with blanks that would read as
    real values: refuse it as damaged instead."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise CompbenchError(f"{path} cannot be read ({exc})") from None
    if text and not text.endswith("\n"):
        raise CompbenchError(f"{path} is damaged: its last row is cut short; rewrite it (compbench run again)")
    rows = list(csv.reader(io.StringIO(text)))
    short = [i + 1 for i, row in enumerate(rows) if row and len(row) != len(rows[0])]
    if short:
        raise CompbenchError(f"{path} is damaged: row {short[0]} has a different number of fields than the "
                             "header; rewrite it (compbench run again)")


def _check_complete(run: StoredRun) -> None:
    """Every setting the manifest lists has summary rows (a summary that lost rows is damaged)."""
    listed = (run.manifest or {}).get("codecs") or {}
    missing = [label for label in listed if label not in set(run.summary["setting"])]
    if missing:
        raise CompbenchError(f"{run.path} is damaged or incomplete: its manifest lists {', '.join(missing)} "
                             "but summary.csv has no rows for it; finish it with compbench run --resume")


def _read_manifest(path: Path) -> dict:
    try:
        manifest = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompbenchError(f"{path} is not a readable manifest ({exc})") from None
    if not isinstance(manifest, dict):
        raise CompbenchError(f"{path} is not a compbench manifest (expected a JSON object)")
    return manifest


def _metric_names(columns) -> list[str]:
    # "<metric>_mean" columns, plus whole-row numbers such as errors and bpp_pooled
    return [c.removesuffix("_mean") for c in columns
            if c not in KEYS and c != "count" and not c.endswith("_std")]


def summary_metrics(summary: pd.DataFrame) -> list[str]:
    """Metric names of a summary, in column order (``psnr`` for ``psnr_mean``)."""
    return _metric_names(summary.columns)


def metric_column(summary: pd.DataFrame, metric: str) -> str:
    """The summary column holding ``metric``: ``<metric>_mean``, or the metric's own column."""
    if f"{metric}_mean" in summary.columns:
        return f"{metric}_mean"
    if metric in summary_metrics(summary):
        return metric
    raise CompbenchError(f"no metric {metric!r} in the summary; metrics: {', '.join(summary_metrics(summary))}")


def name_rows(rows: pd.DataFrame, limit: int = 5) -> str:
    """'jpeg:quality=5 (all classes), jpeg:quality=10 class 3, ... and 4 more'."""
    names = []
    for setting, group in rows.groupby("setting", sort=False):
        classes = list(dict.fromkeys(group["class"]))
        names += [f"{setting} (classes {', '.join(classes)})"] if len(classes) > 2 else \
                 [f"{setting} class {c}" for c in classes]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more

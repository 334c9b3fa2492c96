"""Reading stored runs: :class:`ResultsFolder`, the one reader of a results folder, used by
every command that reads one.

Strict (compare, the gate, history): anything damaged or missing is a one-line CompbenchError.
Lenient (the report): what can be read is read, and each problem becomes a note to show.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..contracts.errors import CompbenchError, did_you_mean
from .manifest import read_manifest
from .records_reader import iter_records

#: what identifies a summary row
KEYS = ["codec", "setting", "dataset", "split", "class"]


#: rows of records.csv read at a time by :meth:`ResultsFolder.records`
RECORD_CHUNK_ROWS = 20_000

#: only an empty cell is missing: a class (a folder's name) may well be "NA", "None" or "null",
#: which pandas would otherwise read as missing (NaN is written as an empty cell)
TEXT_AS_WRITTEN = {"keep_default_na": False, "na_values": [""]}


@dataclass(frozen=True)
class ResultsFolder:
    """A stored run: its summary and manifest, read when the folder is opened
    (:func:`open_results`); its records and tables read when asked for."""

    path: Path
    #: summary.csv (None only when read leniently and it is missing or unreadable)
    summary: pd.DataFrame | None
    #: manifest.json beside the summary, if there is one
    manifest: dict | None
    #: what a lenient read found wrong, one line each
    problems: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        """The folder itself (``path`` may name its summary.csv)."""
        return self.path.parent if self.path.is_file() else self.path

    def records(self, chunk_rows: int = RECORD_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
        """records.csv a chunk at a time (never whole in memory)."""
        return iter_records(self.folder / "records.csv", chunk_rows)

    def table(self, name: str) -> pd.DataFrame | None:
        """Another CSV of the folder (bdrate.csv) as well as it parses; None when absent; a
        file that does not parse is a problem (lenient) or an error (strict)."""
        path = self.folder / name
        if not path.exists():
            return None
        frame = read_table(path)
        if frame is None:
            self.problems.append(f"could not read {name}")
        return frame


def open_results(path: str | Path, strict: bool = True) -> ResultsFolder:
    """A results folder (or its summary.csv) as written by ``compbench run``.

    ``strict``: a damaged or missing summary or manifest raises. Otherwise each problem is noted
    in ``problems`` and the part is read as well as it can be (or left None).
    """
    path = Path(path)
    summary_path = path / "summary.csv" if path.is_dir() else path
    manifest_path = summary_path.parent / "manifest.json"
    if not path.exists():
        raise CompbenchError(f"{path}: no such results folder or summary.csv")
    if strict and not summary_path.is_file():
        raise CompbenchError(f"{path} has no summary.csv: pass a results folder written by "
                             "`compbench run`, or its summary.csv")
    if not strict and not summary_path.is_file() and not manifest_path.is_file():
        raise CompbenchError(f"{path} is not a compbench results folder (no summary.csv or "
                             "manifest.json); pass the folder a run wrote")
    problems: list[str] = []

    def part(read, target: Path, fallback=None):
        if not target.is_file():
            return None
        try:
            return read(target)
        except CompbenchError as exc:
            if strict:
                raise
            problems.append(str(exc))
            return fallback(target) if fallback else None

    manifest = part(read_manifest, manifest_path)
    run = ResultsFolder(path, part(_read_summary, summary_path, read_table), manifest, problems)
    if run.summary is not None:
        part(lambda _: _check_complete(run), summary_path)
    return run


def read_table(path: Path) -> pd.DataFrame | None:
    """Any CSV of a results folder as well as it parses (text columns stay text), or None."""
    try:
        frame = pd.read_csv(path, dtype={"codec": str, "setting": str, "class": str, "anchor": str,
                                         "warning": str, "error": str}, **TEXT_AS_WRITTEN)
    except (OSError, ValueError):  # pandas' parse errors are ValueErrors
        return None
    for column in ("codec", "setting", "class", "anchor", "warning", "error"):
        if column in frame:
            frame[column] = frame[column].fillna("")
    return frame


def _read_summary(path: Path) -> pd.DataFrame:
    _check_whole_rows(path)
    try:
        # keys stay text: class "0" must not become the number 0
        summary = pd.read_csv(path, dtype={key: str for key in KEYS}, **TEXT_AS_WRITTEN)
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


def _check_complete(run: ResultsFolder) -> None:
    """Every setting the manifest lists has summary rows (a summary that lost rows is damaged),
    but for a codec that took none of the images (not applicable: a complete run holds no row
    of it)."""
    manifest = run.manifest or {}
    listed = manifest.get("codecs") or {}
    took_none = {name for name, refused in (manifest.get("not_applicable") or {}).items()
                 if isinstance(refused, dict) and refused.get("images") == refused.get("of")}
    present = set(run.summary["setting"])
    missing = [label for label, described in listed.items()
               if label not in present and (described or {}).get("codec") not in took_none]
    if missing:
        raise CompbenchError(f"{run.path} is damaged or incomplete: its manifest lists {', '.join(missing)} "
                             "but summary.csv has no rows for it; finish it with compbench run --resume")


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
    names = summary_metrics(summary)
    raise CompbenchError(f"no metric {metric!r} in the summary{did_you_mean(metric, names)}metrics: {', '.join(names)}")


def name_rows(rows: pd.DataFrame, limit: int = 5) -> str:
    """'jpeg:quality=5 (all classes), jpeg:quality=10 class 3, ... and 4 more'."""
    names = []
    for setting, group in rows.groupby("setting", sort=False):
        classes = list(dict.fromkeys(group["class"]))
        names += [f"{setting} (classes {', '.join(classes)})"] if len(classes) > 2 else \
                 [f"{setting} class {c}" for c in classes]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more

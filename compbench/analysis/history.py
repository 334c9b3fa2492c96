"""Across stored runs: one metric, oldest first (how a codec setting drifted over commits), or
a codec's BD-rate against the first run given (how its curve moved)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from ..contracts.errors import CompbenchError
from ..metrics import MetricSet
from ..store.results_folder import ResultsFolder, metric_column, open_results
from ..store.summary import ALL
from .curves import compare_curves


def open_runs(dirs: Sequence[str | Path]) -> list[ResultsFolder]:
    """The stored runs :func:`history` reads, opened once, in the order given."""
    if not dirs:
        raise CompbenchError("history needs at least one results folder")
    return [open_results(d) for d in dirs]


def history(runs: Sequence[ResultsFolder], metric: str = "psnr", cls: str = ALL) -> pd.DataFrame:
    """Rows: runs (indexed by folder name) in the order their manifests say they started;
    columns: settings, in order of first appearance; values: the metric's mean for class
    ``cls`` (NaN where a run lacks the setting). ``frame.attrs`` keeps the metric, the class and
    each run's start time and git commit."""
    if not runs:
        raise CompbenchError("history needs at least one results folder")
    runs = sorted(runs, key=_started)
    cls = str(cls)
    labels = _run_labels(runs)
    series = {}
    for label, run in zip(labels, runs):
        rows = run.summary[run.summary["class"] == cls]
        if rows.empty:
            classes = ", ".join(dict.fromkeys(run.summary["class"]))
            raise CompbenchError(f"{run.path} has no class {cls!r}; classes: {classes}")
        series[label] = pd.Series(rows[metric_column(run.summary, metric)].to_numpy(float),
                                  index=rows["setting"].to_numpy())
    settings = list(dict.fromkeys(setting for values in series.values() for setting in values.index))
    frame = pd.DataFrame([values.reindex(settings) for values in series.values()], index=list(series))
    frame.index.name = "run"
    frame.columns.name = "setting"
    # the axis title from the newest run's declaration of the metric (a plugin's too)
    frame.attrs.update(metric=metric, cls=cls, axis=MetricSet.stored(runs[-1].manifest).describe(metric).axis_label(),
                       started=[run.manifest["started"] for run in runs],
                       commits=[run.manifest.get("git_commit") for run in runs])
    return frame


def newest_run(runs: Sequence[ResultsFolder]) -> ResultsFolder:
    """The run :func:`history` shows last (the latest start; of equal ones, the last given)."""
    return sorted(runs, key=_started)[-1]


def _started(run: ResultsFolder) -> pd.Timestamp:
    started = (run.manifest or {}).get("started")
    if started is None:
        raise CompbenchError(f"{run.path} has no manifest.json with a 'started' time: history orders "
                             "runs by it (pass results folders written by `compbench run`)")
    try:
        stamp = pd.Timestamp(started)
    except (TypeError, ValueError):
        raise CompbenchError(f"{run.path}: manifest 'started' {started!r} is not a date and time") from None
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _run_labels(runs: list[ResultsFolder]) -> list[str]:
    """Folder names, or whole paths where two folders share a name."""
    folder = [run.path.parent.name if run.path.is_file() else run.path.name for run in runs]
    return [name if folder.count(name) == 1 else str(run.path) for name, run in zip(folder, runs)]


def bd_rate_history(dirs: list[str | Path], codec: str, quality: str = "psnr") -> pd.DataFrame:
    """BD-rate and BD-quality of ``codec``'s curve (all images) in each run against its curve in
    the first, runs in the order given (the first: 0). Rows: runs (as :func:`history` labels
    them); columns: ``bd_rate_pct``, ``bd_quality``, ``points``, ``coverage``, ``warning``,
    ``started``, ``commit``. Every run must have measured the images the first did."""
    if len(dirs) < 2:
        raise CompbenchError("history --bd-rate needs at least two results folders: the first is the base")
    runs = [open_results(d) for d in dirs]
    for run in runs:
        _started(run)  # the x axis is labelled by it: refuse a run without it
    comparisons = [compare_curves(runs[0], run, codecs=[codec]) for run in runs[1:]]
    if quality not in comparisons[0].qualities:
        raise CompbenchError(f"no {quality} curve of {codec} in both {runs[0].path} and {runs[1].path}; "
                             f"qualities: {', '.join(comparisons[0].qualities)}")
    rows = [{"bd_rate_pct": 0.0, "bd_quality": 0.0, "points": _points(runs[0], codec), "coverage": 1.0,
             "warning": ""}]
    for comparison in comparisons:
        row = comparison.overall(quality).iloc[0]
        rows.append({"bd_rate_pct": row["bd_rate_pct"], "bd_quality": row["bd_quality"],
                     "points": int(row["new_points"]), "coverage": row["coverage"], "warning": row["warning"]})
    frame = pd.DataFrame(rows, index=pd.Index(_run_labels(runs), name="run"))
    frame["started"] = [run.manifest["started"] for run in runs]
    frame["commit"] = [run.manifest.get("git_commit") or "" for run in runs]
    frame.attrs.update(codec=codec, quality=quality, base=str(runs[0].path))
    return frame


def _points(run: ResultsFolder, codec: str) -> int:
    rows = run.summary[(run.summary["codec"] == codec) & (run.summary["class"] == ALL)]
    return int(rows["setting"].nunique())

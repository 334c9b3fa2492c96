"""Overlaid rate-quality curves of several runs (``compare --curves --plot DIR``): for each
quality metric, one plot per codec and one with every codec. The base run is drawn solid with
round markers, each new run dashed with its own marker, reference curves with long dashes
(:mod:`.reference_curves`); every line is labelled with its codec and run."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..analysis.references import RATE, ReferenceCurve
from ..metrics import MetricSet
from ..store.results_folder import metric_column
from ..store.summary import ALL
from .charts import axis_label, codec_colors, line_chart, new_figure, safe_name, save
from .parallel import draw_all
from .reference_curves import draw_references

#: markers of the new runs, in order (the base run: "o")
NEW_MARKERS = ("s", "^", "D", "v", "P", "X")


@dataclass(frozen=True)
class PlottedRun:
    """One run's curves: its label in legends and its summary."""

    label: str
    summary: pd.DataFrame


@dataclass(frozen=True)
class CurvePlotOptions:
    qualities: tuple[str, ...]
    references: tuple[ReferenceCurve, ...] = ()
    metrics: MetricSet | None = None
    formats: tuple[str, ...] = ("png",)
    #: said under every title (e.g. that the runs measured different images)
    note: str = ""


def write_curve_plots(out_dir: str | Path, runs: Sequence[PlottedRun], options: CurvePlotOptions) -> list[Path]:
    """``curves_<codec>_<quality>`` for each codec and ``curves_all_<quality>``; the first run
    is the base. Returns the files written."""
    codecs = list(dict.fromkeys(c for run in runs for c in run.summary["codec"]))
    colors = codec_colors(codecs)
    jobs = []
    for quality in options.qualities:
        for codec in [*codecs, None]:
            stem = f"curves_{safe_name(codec) if codec else 'all'}_{safe_name(quality)}"
            jobs.append(functools.partial(_draw, out_dir, stem, runs, codec, quality, colors, options))
    return draw_all(jobs)


def _draw(out_dir, stem: str, runs: Sequence[PlottedRun], codec: str | None, quality: str, colors: dict,
          options: CurvePlotOptions) -> list[Path]:
    return save(curve_figure(runs, codec, quality, colors, options), out_dir, stem, options.formats)


def curve_figure(runs: Sequence[PlottedRun], codec: str | None, quality: str, colors: dict,
                 options: CurvePlotOptions):
    """One codec's curves (``codec``), or every codec's (None), in every run."""
    # a fixed layout: the constrained layout engine took a third of a plot's time
    fig = new_figure(6.8, 4.6, layout=None)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.11, top=0.86 if options.note else 0.9)
    ax = fig.add_subplot()
    for i, run in enumerate(runs):
        style = {"linestyle": "-", "marker": "o"} if i == 0 else \
                {"linestyle": "--", "marker": NEW_MARKERS[(i - 1) % len(NEW_MARKERS)]}
        for name in [codec] if codec else list(dict.fromkeys(run.summary["codec"])):
            x, y = _points(run.summary, name, quality)
            if len(x):
                ax.plot(x, y, color=colors[name], markersize=4.5, markerfacecolor="none" if i else colors[name],
                        label=f"{name}, {run.label}{' (base)' if i == 0 else ''}", **style)
    draw_references(ax, options.references, quality)
    ax.set_xlabel(axis_label(RATE, options.metrics))
    ax.set_ylabel(axis_label(quality, options.metrics))
    ax.grid(True, alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small")
    title = f"{codec or 'every codec'}: {axis_label(quality, options.metrics).split(' (')[0]} vs rate"
    fig.suptitle(title + (f"\n{options.note}" if options.note else ""), fontsize="medium")
    return fig


def _points(summary: pd.DataFrame, codec: str, quality: str) -> tuple[np.ndarray, np.ndarray]:
    """A codec's finite (rate, quality) points over all images, in rate order."""
    rows = summary[(summary["codec"] == codec) & (summary["class"] == ALL)]
    if rows.empty or (f"{quality}_mean" not in rows and quality not in rows):
        return np.empty(0), np.empty(0)
    x = rows[metric_column(rows, RATE)].to_numpy(float)
    y = rows[metric_column(rows, quality)].to_numpy(float)
    keep = np.isfinite(x) & np.isfinite(y)
    order = np.argsort(x[keep], kind="stable")
    return x[keep][order], y[keep][order]


def plot_bd_rate_history(frame: pd.DataFrame, out_path: str | Path) -> Path:
    """A codec's BD-rate across runs (:func:`compbench.analysis.history.bd_rate_history`), runs
    in the order given, each labelled by its start time and git commit, as asv draws a
    benchmark over commits. Writes the file (format from the suffix) and returns its path."""
    codec, quality = frame.attrs.get("codec", "codec"), frame.attrs.get("quality", "psnr")
    ticks = [f"{str(started)[:16].replace('T', ' ')}\n{(commit or 'no commit')[:10]}"
             for started, commit in zip(frame["started"], frame["commit"])]
    return line_chart(out_path, {f"{codec}, BD-rate ({quality})": (np.arange(len(frame)), frame["bd_rate_pct"])},
                      xlabel="run (in the order given): start time, git commit",
                      ylabel=f"BD-rate against {frame.index[0]} (%)", xticks=ticks,
                      title=f"{codec}: BD-rate ({quality}) of each run against the first")

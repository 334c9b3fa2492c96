"""Charts from a run's summary: rate-distortion curves and per-class bars (the paper's Figs. 8-10).

Figures are built with the object-oriented API (``matplotlib.figure.Figure`` on an Agg canvas),
so importing this module never switches the global pyplot backend of a caller's session.
Every public function writes files and returns their paths; the ``*_figure`` builders return
the Figure itself so tests can inspect the artists.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from ..contracts.errors import CompbenchError
from ..metrics import CORE, MetricSet
from ..store.files import replacing
from ..store.summary import ALL
from .colors import PALETTE, codec_colors  # noqa: F401 (PALETTE: charts' public name)
from .matched import Matched, match_settings
from .reference_curves import draw_references

#: hatches tell apart several settings of one codec even in grayscale print
HATCHES = ("", "//", "..", "xx", "\\\\", "oo")
DPI = 150
#: zlib level of the PNGs of figures made of images (Figs. 6 and 7): on photographs 6, the
#: default, writes no smaller files than 3 (3.80 against 3.73 MB for a sweep's Fig. 7) in 2.5x
#: the time (0.68 against 0.27 s)
IMAGES_PNG_LEVEL = 3

#: marker of a lossless setting on an RD plot (a point, never part of a curve)
LOSSLESS_MARKER = "*"


def axis_label(metric: str, metrics: MetricSet | None = None) -> str:
    """An axis title from the metric's declaration (core ones when ``metrics`` is None)."""
    return (metrics or CORE).describe(metric).axis_label()


def save(fig: Figure, out_dir: str | Path, stem: str, formats: Sequence[str] = ("png",),
         images: bool = False) -> list[Path]:
    """Write ``fig`` as ``out_dir/stem.<format>`` for each format; return the paths. ``images``:
    the figure is mostly images (a PNG of it is compressed at :data:`IMAGES_PNG_LEVEL`)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    supported = canvas.get_supported_filetypes()
    unknown = [f for f in formats if f not in supported]
    if unknown:
        raise CompbenchError(f"unknown figure format {unknown[0]!r}; valid: {', '.join(sorted(supported))}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    # a fixed SVG id salt and no date stamp: the same run writes the same bytes
    with matplotlib.rc_context({"svg.hashsalt": "compbench"}):
        for fmt in dict.fromkeys(formats):
            path = out_dir / f"{stem}.{fmt}"
            options = {"metadata": {"Date": None}} if fmt in ("svg", "pdf") else {}
            if fmt == "png" and images:
                options["pil_kwargs"] = {"compress_level": IMAGES_PNG_LEVEL}
            save_figure(fig, path, format=fmt, dpi=fig.dpi, **options)
            paths.append(path)
    return paths


def save_figure(fig: Figure, path: Path, **options) -> Path:
    """Write a figure whole or not at all (a temp file renamed into place)."""
    options.setdefault("format", path.suffix.lstrip(".") or "png")
    with replacing(path) as temp:
        fig.savefig(temp, **options)
    return path


def new_figure(width: float, height: float, dpi: float = DPI, layout: str | None = "constrained") -> Figure:
    """A Figure on its own Agg canvas (no pyplot, no global backend switch)."""
    fig = Figure(figsize=(width, height), dpi=dpi, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def safe_name(text: str) -> str:
    """A setting label as a file-name part: ``ddcae:step=1`` -> ``ddcae_step=1``."""
    return re.sub(r"[^A-Za-z0-9.=+-]+", "_", text).strip("_") or "unnamed"


# ---------------------------------------------------------------- rate-distortion curves

def rd_curves(summary: pd.DataFrame, out_dir: str | Path, y: str = "psnr", x: str = "bpp",
              formats: Sequence[str] = ("png",), colors: Mapping[str, object] | None = None,
              metrics: MetricSet | None = None, references: Sequence = ()) -> list[Path]:
    """``rd_<y>_<x>``: every codec's curve over all images; ``rd_<y>_<x>_by_class``: one panel
    per class. A lossless setting (every image exact) is a star, not a point of a curve, drawn
    at the top edge where its quality is infinite (PSNR); other points that are not finite
    (failed settings) are left out. Axis titles come from the metrics' declarations. Reference
    curves (published results) are drawn dashed on the overall plot."""
    jobs = rd_curve_jobs(summary, out_dir, y, x, formats, colors, metrics, references)
    return [path for job in jobs for path in job()]


def rd_curve_jobs(summary: pd.DataFrame, out_dir: str | Path, y: str = "psnr", x: str = "bpp",
                  formats: Sequence[str] = ("png",), colors: Mapping[str, object] | None = None,
                  metrics: MetricSet | None = None, references: Sequence = ()) -> list[Callable[[], list[Path]]]:
    """:func:`rd_curves` as one job per figure (each draws and saves it, returns its files), for
    drawing them in parallel; the per-class figure, the costlier, last."""
    summary = _prepare(summary, [x, y])
    if summary.empty:
        return []
    colors = _complete(colors, summary)
    stem = f"rd_{y}_{x}"
    jobs = [lambda: save(rd_figure(summary, y, x, colors, metrics, references), out_dir, stem, formats)]
    if _classes(summary):
        jobs.append(lambda: save(rd_by_class_figure(summary, y, x, colors, metrics), out_dir, f"{stem}_by_class",
                                 formats))
    return jobs


def rd_figure(summary: pd.DataFrame, y: str, x: str, colors: Mapping[str, object],
              metrics: MetricSet | None = None, references: Sequence = ()) -> Figure:
    fig = new_figure(6.4, 4.4)
    ax = fig.add_subplot()
    _draw_rd(ax, summary[summary["class"] == ALL], y, x, colors)
    draw_references(ax, references, y, x)
    ax.set_xlabel(axis_label(x, metrics))
    ax.set_ylabel(axis_label(y, metrics))
    ax.legend(title="codec")
    fig.suptitle(f"{_metric_name(y, metrics)} vs rate{_where(summary)}")
    return fig


def rd_by_class_figure(summary: pd.DataFrame, y: str, x: str, colors: Mapping[str, object],
                       metrics: MetricSet | None = None) -> Figure:
    classes = _classes(summary)
    ncols = min(5, len(classes))
    nrows = -(-len(classes) // ncols)
    # a fixed layout: the constrained layout engine took seconds on ten shared-axis panels
    fig = new_figure(2.4 * ncols + 1.8, 2.1 * nrows + 0.8, layout=None)
    fig.subplots_adjust(left=0.07, right=1 - 1.6 / (2.4 * ncols + 1.8), bottom=0.1, top=0.88,
                        wspace=0.12, hspace=0.3)
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax, class_name in zip(axes, classes):
        _draw_rd(ax, summary[summary["class"] == class_name], y, x, colors)
        ax.set_title(f"class {class_name}", fontsize="medium")
    for ax in axes[len(classes):]:  # a last row that is not full
        ax.set_visible(False)
    fig.supxlabel(axis_label(x, metrics))
    fig.supylabel(axis_label(y, metrics))
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper right", title="codec")
    fig.suptitle(f"{_metric_name(y, metrics)} vs rate per class{_where(summary)}")
    return fig


def _draw_rd(ax, rows: pd.DataFrame, y: str, x: str, colors: Mapping[str, object]) -> None:
    exact = _lossless_rows(rows)
    for codec, group in rows.groupby("codec", sort=True):
        points = group.loc[~exact[group.index], [f"{x}_mean", f"{y}_mean"]].to_numpy(dtype=float)
        points = points[np.isfinite(points).all(axis=1)]
        points = points[np.argsort(points[:, 0], kind="stable")]
        lossless = group.loc[exact[group.index], [f"{x}_mean", f"{y}_mean"]].to_numpy(dtype=float)
        lossless = lossless[np.isfinite(lossless[:, 0]) & ~np.isnan(lossless[:, 1])]
        # label even an empty codec so every panel's legend lists the same codecs (a codec
        # with lossless settings only is listed by its markers)
        if len(points) or not len(lossless):
            ax.plot(points[:, 0], points[:, 1], marker="o", markersize=4, color=colors[codec], label=codec)
        if len(lossless):
            _draw_lossless(ax, lossless, colors[codec], f"{codec} (lossless)")
    ax.grid(True, alpha=0.3)


def _lossless_rows(rows: pd.DataFrame) -> pd.Series:
    """Rows (settings) whose every measured image was reconstructed exactly."""
    if "lossless" not in rows or "count" not in rows:
        return pd.Series(False, index=rows.index)
    return (rows["count"] > 0) & (rows["lossless"] == rows["count"])


def _draw_lossless(ax, points: np.ndarray, color, label: str) -> None:
    """Lossless settings as unconnected stars: at their quality when it is finite (SSIM 1), on
    the top edge of the axes when it is infinite (PSNR), with a note saying so."""
    finite = np.isfinite(points[:, 1])
    style = dict(marker=LOSSLESS_MARKER, markersize=11, linestyle="none", color=color,
                 markeredgecolor="black", markeredgewidth=0.5, clip_on=False)
    if finite.any():
        ax.plot(points[finite, 0], points[finite, 1], label=label, **style)
    if (~finite).any():
        top = ax.get_xaxis_transform()  # x in data units, y in axes units (1 = the top edge)
        ax.plot(points[~finite, 0], np.ones((~finite).sum()), transform=top,
                label=label if not finite.any() else "_nolegend_", **style)
        # one note per codec, under its lowest-rate star (several would overlap)
        ax.annotate("lossless", (points[~finite, 0].min(), 1.0), xycoords=top, xytext=(-4, -10),
                    textcoords="offset points", ha="left", va="top", fontsize="x-small", color="0.3")


# ---------------------------------------------------------------- per-class bars (Figs. 8-10)

SNR_PAPER_NOTE = "paper's definition: mean/std of the reconstruction, not an SNR of the coding"


#: the per-class bar charts: file stem -> (metrics, title)
CLASS_BARS = {
    "fig8_entropy": (["entropy"], "Fig. 8: entropy of the reconstruction's histogram"),
    "fig9_bpp": (["bpp"], "Fig. 9: bits per pixel of the coded file"),
    "fig10_snr": (["snr_db", "snr_paper"], "Fig. 10: SNR per class"),
}


def class_bars(summary: pd.DataFrame, out_dir: str | Path, formats: Sequence[str] = ("png",),
               colors: Mapping[str, object] | None = None, stems: Sequence[str] | None = None,
               matched: Matched | None = None) -> list[Path]:
    """``fig8_entropy``, ``fig9_bpp`` and ``fig10_snr`` (honest SNR beside the paper's), or
    those of them named in ``stems``.

    One group of bars per class (and one for all images), one bar per setting, colored by codec.
    When a codec has more than :data:`MAX_BAR_SETTINGS` settings (a sweep), every codec shows
    its setting at the matched rate (``matched``, default: nearest the median bpp).
    """
    summary = _prepare(summary, ["bpp"])
    if summary.empty:
        return []
    colors = _complete(colors, summary)
    settings, note = pick_settings(summary, matched=matched)
    shown = summary[summary["setting"].isin(settings)]
    paths = []
    for stem, (metrics, title) in CLASS_BARS.items():
        if stems is not None and stem not in stems:
            continue
        paths += save(bars_figure(shown, metrics, settings, colors, title, note), out_dir, stem, formats)
    return paths


#: settings per codec the bars and grids show all of; a codec with more (a sweep) makes every
#: codec show one setting, at the matched rate
MAX_BAR_SETTINGS = 3


def pick_settings(summary: pd.DataFrame, max_settings: int = MAX_BAR_SETTINGS,
                  matched: Matched | None = None) -> tuple[list[str], str]:
    """The settings to draw as bars and grid columns, in run order, and a note saying which."""
    overall = summary[summary["class"].astype(str) == ALL]
    run_order = list(dict.fromkeys(summary["setting"]))
    if (overall.groupby("codec")["setting"].nunique() <= max_settings).all():
        return run_order, ""
    matched = matched or match_settings(summary)
    if matched is None:
        return run_order, ""
    keep = sorted(set(matched.settings.values()) & set(run_order), key=run_order.index)
    return keep, matched.caption()


BARS_NOTE = "bars: means over the class's images; error bars: ±1 standard deviation over them"
PANEL_TITLES = {
    "snr_db": "SNR of the coding, 10 log10(sum x^2 / sum (x-y)^2)",
    "snr_paper": SNR_PAPER_NOTE,
}


def bars_figure(summary: pd.DataFrame, metrics: list[str], settings: list[str],
                colors: Mapping[str, object], title: str, note: str = "") -> Figure:
    """Grouped bars, one panel per metric: mean per class with the std as an error bar."""
    groups = _classes(summary) + [ALL]
    width_in = 3.0 + 0.12 * len(groups) * (len(settings) + 1)
    fig = new_figure(min(16.0, max(7.0, width_in)), 1.0 + 2.6 * len(metrics))
    axes = fig.subplots(len(metrics), 1, sharex=True, squeeze=False).ravel()
    styles = _bar_styles(summary, settings, colors)
    width = 0.8 / len(settings)
    centers = np.arange(len(groups), dtype=float)
    indexed = summary.set_index(["setting", "class"])
    for ax, metric in zip(axes, metrics):
        for i, setting in enumerate(settings):
            means = _lookup(indexed, setting, groups, f"{metric}_mean")
            stds = _lookup(indexed, setting, groups, f"{metric}_std")
            xs = centers - 0.4 + width * (i + 0.5)
            finite = np.isfinite(means)
            ax.bar(xs[finite], means[finite], width, yerr=np.nan_to_num(stds[finite]), label=setting,
                   error_kw={"elinewidth": 0.6, "capsize": 1.5, "ecolor": "0.3"}, **styles[setting])
            for x_inf in xs[np.isposinf(means)]:  # lossless: no finite bar to draw, so say so
                ax.annotate("∞", (x_inf, 0), xytext=(0, 2), textcoords="offset points",
                            ha="center", va="bottom", fontsize="small")
        ax.set_ylabel(axis_label(metric))
        ax.set_title(PANEL_TITLES.get(metric, ""), fontsize="medium")
        ax.grid(True, axis="y", alpha=0.3)
        ax.axvline(len(groups) - 1.5, color="0.6", linewidth=0.8)  # sets "all" apart from the classes
    axes[-1].set_xticks(centers, [f"{g}" for g in groups])
    axes[-1].set_xlabel("class")
    # below the plot, where long setting labels and the sweep note have the figure's width
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center",
               ncols=min(len(settings), 4), title=f"setting: {note}" if note else "setting")
    fig.suptitle(title + _where(summary) + "\n" + BARS_NOTE, fontsize="medium")
    return fig


def _bar_styles(summary: pd.DataFrame, settings: list[str], colors: Mapping[str, object]) -> dict[str, dict]:
    """Codec color for every setting; several settings of one codec go from a light shade (low
    rate) to the full color (high rate), each with its own hatch."""
    codec_of = dict(zip(summary["setting"], summary["codec"]))
    styles = {}
    for codec in dict.fromkeys(codec_of[s] for s in settings):
        own = [s for s in settings if codec_of[s] == codec]
        base = np.array(to_rgb(colors[codec]))
        for k, setting in enumerate(own):
            light = 0.55 * (1 - k / (len(own) - 1)) if len(own) > 1 else 0.0
            styles[setting] = {"color": tuple(base + (1 - base) * light),
                               "edgecolor": tuple(base * 0.6), "linewidth": 0.5,
                               "hatch": HATCHES[k % len(HATCHES)] if len(own) > 1 else ""}
    return styles


def _lookup(indexed: pd.DataFrame, setting: str, groups: list[str], column: str) -> np.ndarray:
    if column not in indexed.columns:
        return np.full(len(groups), np.nan)
    return np.array([indexed[column].get((setting, g), np.nan) for g in groups], dtype=float)


# ---------------------------------------------------------------- shared bits

def _prepare(summary: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Check the needed columns; class names as text (a summary read back from CSV has ints)."""
    missing = [f"{m}_mean" for m in metrics if f"{m}_mean" not in summary.columns]
    if missing:
        raise CompbenchError(f"summary has no column {missing[0]!r}; metrics: "
                             + ", ".join(c[:-5] for c in summary.columns if c.endswith("_mean")))
    return summary.assign(**{"class": summary["class"].astype(str)})


def _complete(colors: Mapping[str, object] | None, summary: pd.DataFrame) -> dict[str, object]:
    """The run's colors; a codec missing from them gets one from :func:`codec_colors`."""
    return {**codec_colors(summary["codec"]), **(colors or {})}


def _classes(summary: pd.DataFrame) -> list[str]:
    """Class names in summary order (the dataset's order), without "all"."""
    return [c for c in dict.fromkeys(summary["class"].astype(str)) if c != ALL]


def _where(summary: pd.DataFrame) -> str:
    parts = [str(v) for col in ("dataset", "split") if col in summary for v in dict.fromkeys(summary[col])]
    return f" ({' / '.join(parts)})" if parts else ""


def _metric_name(metric: str, metrics: MetricSet | None = None) -> str:
    return axis_label(metric, metrics).split(" (")[0]


#: series a line chart's legend holds beside the plot; more go below it, in columns
LEGEND_BESIDE = 8


def line_chart(path: str | Path, series: Mapping[str, tuple[Sequence, Sequence]], *, xlabel: str,
               ylabel: str, title: str, log_y: bool = False, xticks: Sequence[str] | None = None,
               styles: Mapping[str, str] | None = None) -> Path:
    """One line per series (label -> (x values, y values)); non-finite values leave a gap.

    The one line-chart builder: run history across stored runs and trainers' loss curves both
    draw with it. ``xticks`` names the x positions 0, 1, ... (e.g. run folders), slanted so long
    names do not overlap. Many series (a sweep's 31 settings) get a legend below the plot in
    columns, and the figure grows to hold it, so the plot keeps its size. Writes the file
    (format from the suffix) and returns its path.
    """
    path = Path(path)
    below = len(series) > LEGEND_BESIDE
    ncols = min(5, -(-len(series) // 6)) if below else 1
    width = max(8.0 if below else 6.0, 0.6 * len(xticks) + 3 if xticks is not None else 0)
    height = 4.5 + (0.2 * -(-len(series) // ncols) + 0.4 if below else 0)
    fig = new_figure(width, height, dpi=120)
    axes = fig.add_subplot()
    for label, (xs, ys) in series.items():
        ys = np.asarray(ys, dtype=float)
        axes.plot(np.asarray(xs), np.where(np.isfinite(ys), ys, np.nan),
                  (styles or {}).get(label, "o-"), ms=3, label=str(label))
    if xticks is not None:
        axes.set_xticks(np.arange(len(xticks)), [str(t) for t in xticks], rotation=25, ha="right",
                        rotation_mode="anchor", fontsize="small")
    if log_y:
        axes.set_yscale("log")
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.set_title(title)
    axes.grid(True, which="both", alpha=0.3)
    if below:
        fig.legend(loc="outside lower center", ncols=ncols, fontsize="small", frameon=False)
    else:
        axes.legend(fontsize="small")
    return save_figure(fig, path)


def plot_history(frame: pd.DataFrame, out_path: str | Path, note: str = "") -> Path:
    """One line per setting across the runs of :func:`history`; writes a PNG (or any format
    matplotlib knows from the suffix) and returns its path. ``note`` goes under the title (the
    runs measured different images, say)."""
    positions = np.arange(len(frame))
    metric = frame.attrs.get("metric", "value")
    title = f"{metric}, class {frame.attrs.get('cls', ALL)}, across runs" + (f"\n{note}" if note else "")
    # a lossless psnr is inf: it has no place on the axis, so the line leaves a gap
    return line_chart(out_path, {setting: (positions, frame[setting]) for setting in frame.columns},
                      xlabel="run (oldest first)", ylabel=frame.attrs.get("axis", metric), xticks=list(frame.index),
                      title=title)

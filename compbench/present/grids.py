"""Image grids (the paper's Figs. 6 and 7) and the figures a run writes.

A 28x28 digit drawn into a few hundred screen pixels gets smoothed by any resampling, so the
grids never resample: each image is upscaled by a whole factor with nearest-neighbour
(:func:`upscale`) and placed pixel for pixel with ``Figure.figimage`` on a layout computed in
pixels (:class:`GridLayout`).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..metrics import DEFAULT_RD_METRICS, MetricSet
from ..store.summary import ALL
from .charts import (
    CLASS_BARS,
    class_bars,
    codec_colors,
    new_figure,
    pick_settings,
    rd_curve_jobs,
    safe_name,
    save,
)
from .crops import CROP, crop, detail_box
from .matched import Matched, match_settings
from .parallel import FigureJob, draw_all

#: default upscaling of the largest image in a grid (28 px -> 112 px)
SCALE = 4
FONT = 7  # points; at DPI 100 about 10 px
DPI = 100
#: rate-distortion pairs drawn for a run with a sweep, unless the run asked for other quality
#: metrics (``rd_metrics``: each against bpp, the first also against bpp_payload)
RD_PAIRS = (("psnr", "bpp"), ("ssim", "bpp"), ("psnr", "bpp_payload"))


def rd_pairs(rd_metrics) -> tuple[tuple[str, str], ...]:
    """(quality, rate) pairs to draw; the default quality metrics give :data:`RD_PAIRS`."""
    if not rd_metrics or tuple(rd_metrics) == DEFAULT_RD_METRICS:
        return RD_PAIRS
    return tuple((y, "bpp") for y in rd_metrics) + ((rd_metrics[0], "bpp_payload"),)


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Each pixel becomes a ``factor`` x ``factor`` block (nearest neighbour; colour axis kept)."""
    return np.repeat(np.repeat(image, factor, axis=0), factor, axis=1)


def to_display(image) -> np.ndarray:
    """An image as uint8 for display. uint8 passes unchanged; anything else (a learned codec's
    float code) is stretched per image to 0..255, since only its pattern is meaningful."""
    arr = np.asarray(image)
    if arr.ndim == 1 and math.isqrt(arr.size) ** 2 == arr.size:  # a flat code of 64 -> 8x8
        arr = arr.reshape(math.isqrt(arr.size), -1)
    if arr.ndim == 3 and arr.shape[2] == 1:  # (H, W, 1) gray
        arr = arr[..., 0]
    if arr.dtype == np.uint8:
        return arr
    arr = arr.astype(float)
    lo, hi = np.nanmin(arr), np.nanmax(arr)
    if not hi > lo:
        return np.full(arr.shape, 128, np.uint8)
    return np.round(np.nan_to_num((arr - lo) / (hi - lo)) * 255).astype(np.uint8)


@dataclass(frozen=True)
class GridLayout:
    """Pixel geometry of a grid: a title line, a header row of column names, a column of row
    labels, and cells of ``cell`` x ``cell`` pixels each with a caption strip below."""

    rows: int
    cols: int
    cell: int
    caption: int = 26
    header: int = 30
    title: int = 24
    left: int = 56
    gap: int = 6

    @property
    def width(self) -> int:
        return self.left + self.cols * (self.cell + self.gap) + self.gap

    @property
    def height(self) -> int:
        return self.title + self.header + self.rows * (self.cell + self.caption + self.gap) + self.gap

    def cell_origin(self, row: int, col: int) -> tuple[int, int]:
        """Top-left pixel (x, y) of a cell, y counted down from the top of the image file."""
        return (self.left + self.gap + col * (self.cell + self.gap),
                self.title + self.header + row * (self.cell + self.caption + self.gap))


def _header_text(label: str) -> str:
    """``jpeg2000:psnr=30,numres=2`` on three lines, so a column header fits its cell."""
    return label.replace(":", "\n", 1).replace(",", "\n")


def _header_height(labels) -> int:
    lines = max([2, *(_header_text(label).count("\n") + 1 for label in labels)])
    return 8 + 11 * lines


class _Grid:
    """Draws into a Figure laid out by a GridLayout (text and images at pixel positions)."""

    def __init__(self, layout: GridLayout, title: str):
        self.layout = layout
        self.fig = new_figure(layout.width / DPI, layout.height / DPI, dpi=DPI, layout=None)
        self.fig.set_facecolor("white")
        self.text(layout.width / 2, 4, title, fontsize=FONT + 2, va="top", weight="bold")

    def text(self, x: float, y: float, text: str, **kw) -> None:
        """Text at pixel (x, y) from the top-left."""
        kw = {"ha": "center", "va": "top", "fontsize": FONT, **kw}
        self.fig.text(x / self.layout.width, 1 - y / self.layout.height, text, **kw)

    def header(self, col: int, text: str) -> None:
        x, y = self.cell_center_x(col), self.layout.title + self.layout.header - 3
        self.text(x, y, _header_text(text), va="bottom", linespacing=1.1)

    def row_label(self, row: int, text: str) -> None:
        _, y = self.layout.cell_origin(row, 0)
        self.text(self.layout.left - 2, y + self.layout.cell / 2, text, ha="right", va="center")

    def image(self, row: int, col: int, image, caption: str = "") -> None:
        x, y = self.layout.cell_origin(row, col)
        if image is not None:
            shown = to_display(image)
            if max(shown.shape[:2]) > self.layout.cell:  # a photograph: every k-th pixel fits the cell
                step = math.ceil(max(shown.shape[:2]) / self.layout.cell)
                shown = shown[::step, ::step]
            factor = max(1, self.layout.cell // max(shown.shape[:2]))
            big = upscale(shown, factor)
            # centre a smaller panel (an 8x8 code) in the cell; figimage counts y from the bottom
            x0 = x + (self.layout.cell - big.shape[1]) // 2
            y0 = y + (self.layout.cell - big.shape[0]) // 2
            if big.ndim == 2:  # gray as RGB: the gray colormap would round some levels off by one
                big = np.repeat(big[..., None], 3, axis=2)
            self.fig.figimage(big, xo=x0, yo=self.layout.height - y0 - big.shape[0], origin="upper")
        if caption:
            self.text(self.cell_center_x(col), y + self.layout.cell + 2, caption, linespacing=1.1)

    def cell_center_x(self, col: int) -> float:
        return self.layout.cell_origin(0, col)[0] + self.layout.cell / 2


#: the largest grid cell in pixels: small images are enlarged up to it, photographs thinned to it
MAX_CELL = CROP  # a sample's crop (compbench.run.samples) fills one cell


def _cell_size(images, scale: int) -> int:
    side = max((max(to_display(im).shape[:2]) for im in images if im is not None), default=8)
    return min(scale * side, max(MAX_CELL, side if side <= MAX_CELL else 0))


def _label(labels, class_names, i: int) -> str:
    if labels is None:
        return ""
    label = int(labels[i])
    text = str(class_names[label]) if 0 <= label < len(class_names) else str(label)
    return text if len(text) <= 8 else text[:7] + "…"  # the label column is 56 px wide


def comparison_figure(originals, labels, class_names: Sequence[str],
                      reconstructions: Mapping[str, Sequence], stats: Mapping[str, tuple],
                      scale: int = SCALE, title: str = "Fig. 7: originals and reconstructions (bpp, PSNR)",
                      ) -> Figure:
    """Rows: sample images; columns: the original, then each setting's reconstruction captioned
    with its bpp and PSNR. A missing reconstruction (a failed image) is captioned "failed"."""
    layout = GridLayout(len(originals), 1 + len(reconstructions), _cell_size(originals, scale),
                        header=_header_height(reconstructions))
    grid = _Grid(layout, title)
    grid.header(0, "original")
    for col, setting in enumerate(reconstructions, start=1):
        grid.header(col, setting)
    for row, original in enumerate(originals):
        grid.row_label(row, _label(labels, class_names, row))
        grid.image(row, 0, original)
        for col, (setting, images) in enumerate(reconstructions.items(), start=1):
            bpps, psnrs = stats.get(setting, ((), ()))
            image = images[row]
            caption = "failed" if image is None else _caption(_at(bpps, row), _at(psnrs, row))
            grid.image(row, col, image, caption)
    return grid.fig


def _at(values, i: int) -> float:
    return float(values[i]) if i < len(values) else np.nan


def _caption(bpp: float, psnr: float) -> str:
    rate = f"{bpp:.2f} bpp" if np.isfinite(bpp) else ""
    quality = "lossless" if np.isposinf(psnr) else f"{psnr:.1f} dB" if np.isfinite(psnr) else ""
    return "\n".join(filter(None, [rate, quality]))


def comparison_grid(originals, labels, class_names: Sequence[str], reconstructions: Mapping[str, Sequence],
                    stats: Mapping[str, tuple], out_path: str | Path, scale: int = SCALE) -> Path:
    """The paper's Fig. 7 written to ``out_path`` (format from its suffix, PNG if none)."""
    fig = comparison_figure(originals, labels, class_names, reconstructions, stats, scale)
    return _save_one(fig, out_path)


def panel_figure(originals, panels: Mapping[str, Sequence], labels=None, class_names: Sequence[str] = (),
                 scale: int = SCALE, title: str = "Fig. 6: original, noisy input, code, reconstruction",
                 ) -> Figure:
    """Rows: sample images; columns: the original, then each named panel. Panels may differ in
    shape; one that is not uint8 (a float code) is stretched per image and captioned with its
    value range, so the stretch is visible."""
    everything = list(originals) + [im for images in panels.values() for im in images]
    layout = GridLayout(len(originals), 1 + len(panels), _cell_size(everything, scale),
                        header=_header_height(panels))
    grid = _Grid(layout, title)
    for col, name in enumerate(["original", *panels]):
        grid.header(col, name)
    for row, original in enumerate(originals):
        grid.row_label(row, _label(labels, class_names, row))
        grid.image(row, 0, original)
        for col, images in enumerate(panels.values(), start=1):
            image = images[row]
            caption = ""
            if image is not None and np.asarray(image).dtype != np.uint8:
                caption = f"{np.nanmin(image):.2f} .. {np.nanmax(image):.2f}"
            grid.image(row, col, image, caption)
    return grid.fig


def panel_grid(originals, panels: Mapping[str, Sequence], out_path: str | Path, labels=None,
               class_names: Sequence[str] = (), scale: int = SCALE) -> Path:
    """The paper's Fig. 6 (any named panels) written to ``out_path``."""
    return _save_one(panel_figure(originals, panels, labels, class_names, scale), out_path)


def _save_one(fig: Figure, out_path: str | Path) -> Path:
    out_path = Path(out_path)
    fmt = out_path.suffix.lstrip(".") or "png"
    return save(fig, out_path.parent, out_path.stem if out_path.suffix else out_path.name, [fmt], images=True)[0]


# ---------------------------------------------------------------- a run's figures

def write_run_figures(result, out_dir: str | Path, formats: Sequence[str] = ("png",),
                      matched: Matched | None = None, paper: bool = True,
                      meanwhile: Callable[[], object] | None = None) -> list[Path]:
    """Every figure for an ``api.RunResult``: ``fig7_comparison`` from the kept samples, the
    rate-distortion curves when some codec ran at two settings or more, and with ``paper`` the
    paper's ``fig6_<setting>`` (for each setting whose codec provided panels) and Figs. 8-10.
    A sweep's grids and bars show each codec's setting at the matched rate (``matched``, default
    nearest the median bpp). Colors are fixed once for the run, so a codec looks the same in
    every plot. ``meanwhile``: see :func:`~compbench.present.parallel.draw_all`."""
    summary = result.summary
    if summary.empty:
        return draw_all([], meanwhile=meanwhile)
    colors = codec_colors(summary["codec"])
    matched = matched or match_settings(summary)
    shown_settings = set(pick_settings(summary, matched=matched)[0])
    jobs: list[FigureJob] = [*_comparison_jobs(result, shown_settings, out_dir, formats)]
    # taken first: Fig. 7 (photographs' crops: seconds) and the per-class RD figures (ten panels)
    costly = list(range(len(jobs)))
    if paper:
        jobs += _panel_jobs(result, shown_settings, out_dir, formats)
        jobs += [functools.partial(class_bars, summary, out_dir, formats, colors, stems=(stem,), matched=matched)
                 for stem in CLASS_BARS]
    settings_per_codec = summary[summary["class"] == ALL].groupby("codec")["setting"].nunique()
    if (settings_per_codec >= 2).any():
        metrics = MetricSet.stored(getattr(result, "manifest", None))
        for y, x in rd_pairs(getattr(result, "rd_metrics", None)):
            if f"{y}_mean" in summary and f"{x}_mean" in summary:
                pair = rd_curve_jobs(summary, out_dir, y, x, formats, colors, metrics, getattr(result, "references", ()))
                jobs += pair
                costly += [len(jobs) - 1] if len(pair) == 2 else []
    return draw_all(jobs, order=[*costly, *(i for i in range(len(jobs)) if i not in costly)], meanwhile=meanwhile)


def _selection(result):
    """The selected images, read by position: never the whole run."""
    return getattr(result, "selection", None) or result.data


def _by_class(data):
    return lambda position: (int(data.labels[position]), position)  # rows grouped by class, as in the paper


def _comparison_jobs(result, shown_settings: set[str], out_dir, formats) -> list[FigureJob]:
    """Fig. 7: the sample images through every shown setting; images larger than a cell as 1:1
    crops of their most detailed region (the report's crops), not thinned thumbnails. The
    crops and the samples' figures are found in the job: whichever process draws it."""
    if not any(result.samples.values()):
        return []
    return [functools.partial(_comparison_figure, result, shown_settings, out_dir, formats)]


def _comparison_figure(result, shown_settings: set[str], out_dir, formats) -> list[Path]:
    data = _selection(result)
    positions = sorted({int(p) for by_position in result.samples.values() for p in by_position}, key=_by_class(data))
    indices = data.indices[positions]
    originals, labels = data.read(positions), data.labels[positions]
    boxes = [detail_box(np.asarray(image)) for image in originals]  # where the workers cut the samples
    reconstructions = {setting: [by_position.get(p) for p in positions]
                       for setting, by_position in result.samples.items() if setting in shown_settings}
    # the sample images' records, gathered as the run's records passed: records.csv is not read
    records = getattr(result, "sample_records", None)
    stats = {setting: _sample_stats(records, setting, indices) for setting in reconstructions}
    originals = [crop(np.asarray(image), box) for image, box in zip(originals, boxes)]
    return save(comparison_figure(originals, labels, result.class_names, reconstructions, stats),
                out_dir, "fig7_comparison", formats, images=True)


def _panel_jobs(result, shown_settings: set[str], out_dir, formats) -> list[FigureJob]:
    """Fig. 6 of each shown setting whose codec provides panels (noisy input, code)."""
    data, jobs = _selection(result), []
    for setting, by_position in (getattr(result, "panels", None) or {}).items():
        shown = sorted((int(p) for p, named in by_position.items() if named), key=_by_class(data))
        if not shown or setting not in shown_settings:  # a codec without figure panels
            continue
        names = list(dict.fromkeys(name for p in shown for name in by_position[p]))
        panels = {name: [by_position[p].get(name) for p in shown] for name in names}
        if "reconstruction" not in panels and setting in result.samples:
            panels["reconstruction"] = [result.samples[setting].get(p) for p in shown]
        jobs.append(functools.partial(_save_panels, data.read(shown), panels, data.labels[shown],
                                      result.class_names, setting, out_dir, formats))
    return jobs


def _save_panels(originals, panels, labels, class_names, setting: str, out_dir, formats) -> list[Path]:
    fig = panel_figure(originals, panels, labels, class_names, title=f"Fig. 6: {setting}")
    return save(fig, out_dir, f"fig6_{safe_name(setting)}", formats, images=True)


def _sample_stats(records: pd.DataFrame | None, setting: str, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """bpp and PSNR of the given dataset indices under one setting (NaN where absent, and for
    every image without ``records``: captions without numbers, as the report's comparison)."""
    if records is None:
        missing = np.full(len(indices), np.nan)
        return missing, missing
    rows = records[records["setting"] == setting].drop_duplicates("index").set_index("index").reindex(indices)
    return rows["bpp"].to_numpy(dtype=float), rows["psnr"].to_numpy(dtype=float)

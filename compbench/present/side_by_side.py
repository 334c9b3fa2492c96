"""The visual comparison at matched rates: a few images, and for each codec its setting nearest
the target (:mod:`.matched`), as 1:1 crops of one region (:mod:`.crops`) with the bpp and PSNR
that image got. The report shows it; Fig. 7 draws the same crops."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .crops import CROP, crop, detail_box, png_uri, zoom_for

#: the most images shown, and the most crop pixels in all (about 2 MB of PNG in the report)
MAX_ROWS = 10
MAX_PIXELS = 6 * 4 * CROP * CROP


@dataclass(frozen=True)
class Sample:
    """One image of the comparison: its id, class and name, the original, and each setting's
    reconstruction (None: failed), cut to the original's :func:`.crops.detail_box` as a run
    keeps it, with that image's bpp and PSNR."""

    index: int
    class_name: str
    name: str
    original: np.ndarray
    reconstructions: Mapping[str, np.ndarray | None]
    stats: Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class Cell:
    title: str
    uri: str | None
    bpp: float = float("nan")
    psnr: float = float("nan")


@dataclass(frozen=True)
class Row:
    index: int
    class_name: str
    name: str
    #: (top, left, height, width) of the crop in the image, and its on-screen enlargement
    box: tuple[int, int, int, int]
    shape: tuple[int, ...]
    zoom: int
    cells: tuple[Cell, ...]


def pick_samples(labels: Sequence, limit_rows: int = MAX_ROWS) -> list[int]:
    """Positions (into ``labels``) of one image per class in order, then a second per class,
    up to ``limit_rows``."""
    labels = [str(label) for label in labels]
    picked: list[int] = []
    for round_ in range(max(1, len(labels))):
        seen: dict[str, int] = {}
        for i, label in enumerate(labels):
            seen[label] = seen.get(label, 0) + 1
            if seen[label] == round_ + 1 and i not in picked:
                picked.append(i)
        if len(picked) >= min(limit_rows, len(labels)):
            break
    return picked[:limit_rows]


def crop_rows(samples: Sequence[Sample], settings: Mapping[str, str]) -> list[Row]:
    """The rows of the comparison: ``settings`` maps a column title (codec) to its setting."""
    rows, pixels = [], 0
    for sample in samples:
        box = detail_box(sample.original)
        pixels += box[2] * box[3] * (1 + len(settings))
        if rows and pixels > MAX_PIXELS:
            break
        cells = [Cell("original", png_uri(crop(sample.original, box)))]
        for title, setting in settings.items():
            image = sample.reconstructions.get(setting)
            bpp, psnr = sample.stats.get(setting, (np.nan, np.nan))
            # a run's workers cut the reconstructions to this region already (compbench.run.samples)
            cells.append(Cell(title, png_uri(image) if image is not None else None, bpp, psnr))
        rows.append(Row(sample.index, sample.class_name, sample.name, box, tuple(sample.original.shape),
                        zoom_for(max(box[2], box[3])), tuple(cells)))
    return rows

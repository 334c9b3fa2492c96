"""What a run returns: :class:`RunResult`, with its records held in memory or on disk behind one
interface (:class:`StoredRecords`), and the selected images read by position only when wanted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..contracts.dataset import ImageSet, ImageSource
from ..metrics import DEFAULT_RD_METRICS
from ..store.records_reader import read_records, record_frame
from ..store.schema import RecordBlock


@runtime_checkable
class StoredRecords(Protocol):
    """A run's records, wherever they are kept: readers ask for them all and never ask where."""

    def frame(self) -> pd.DataFrame:
        """Every record, in canonical order (setting, then image)."""
        ...


class RecordsOnDisk:
    """A run's records.csv, read whole only when asked (:meth:`frame`)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._frame: pd.DataFrame | None = None

    def frame(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = read_records(self.path)
        return self._frame


class RecordsInMemory:
    """The records of a run that writes no folder."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame = frame

    @classmethod
    def of_blocks(cls, blocks: list[tuple[np.ndarray, RecordBlock]], columns: Sequence[str]) -> RecordsInMemory:
        """Every unit's rows in canonical order (setting, then position), as records.csv holds them."""
        if not blocks:
            return cls(record_frame([], columns))
        blocks = sorted(blocks, key=lambda item: tuple(item[0][0]))  # units in order: usually enough
        keys = np.concatenate([k for k, _ in blocks])
        records = record_frame([b for _, b in blocks], columns)
        order = np.lexsort((keys[:, 1], keys[:, 0]))
        if not (np.diff(order) == 1).all():
            records = records.iloc[order].reset_index(drop=True)
        return cls(records)

    def frame(self) -> pd.DataFrame:
        return self._frame


@dataclass
class Selection:
    """The selected images of a source, read by position only when wanted (figures read a few)."""

    source: ImageSource
    positions: np.ndarray
    class_names: tuple[str, ...] = ()

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.source.labels)[self.positions]

    @property
    def indices(self) -> np.ndarray:
        return np.asarray(self.source.indices)[self.positions]

    def __len__(self) -> int:
        return len(self.positions)

    def read(self, positions) -> list[np.ndarray]:
        return self.source.read([int(self.positions[int(p)]) for p in positions])

    def load(self) -> ImageSet:
        source, selection = self.source, self.positions
        if hasattr(source, "take"):
            return source.take(selection)
        return ImageSet(source.read(selection), source.labels[selection], source.indices[selection],
                        self.class_names)


@dataclass
class RunResult:
    #: the records, in memory or in records.csv (:attr:`records` reads them when asked)
    stored: StoredRecords
    summary: pd.DataFrame
    out_dir: Path | None
    manifest: dict
    #: the selected images, read by position (:attr:`data` loads them)
    selection: Selection
    #: setting label -> {row of the selection: reconstruction}, a few images per class; an image
    #: larger than 192 px on a side as the 192 x 192 crop the figures and the report show
    #: (``compbench.run.samples.detail_box`` of the original finds it)
    samples: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    class_names: tuple[str, ...] = ()
    #: setting label -> {row: {panel name: image}} (Codec.figure_panels), for Fig. 6
    panels: dict[str, dict[int, dict[str, np.ndarray]]] = field(default_factory=dict)
    #: BD-rate/BD-quality against the anchor (overall and per class), when there are curves
    bdrate: pd.DataFrame | None = None
    #: the codec the BD tables compare against (None: no codec ran at two or more settings)
    bd_anchor: str | None = None
    #: why there is no BD table, one line (None when there is one); also manifest["bd"]["reason"]
    bd_reason: str | None = None
    #: published curves given with ``references`` (drawn on the RD plots)
    references: tuple = ()
    #: each reference curve against each codec of the run with a curve (bdrate_references.csv)
    reference_bdrate: pd.DataFrame | None = None
    #: quality metrics drawn as RD-plot y-axes (and BD tables)
    rd_metrics: tuple[str, ...] = DEFAULT_RD_METRICS
    #: the records of the sample images (what the figure grids print beside them)
    sample_records: pd.DataFrame | None = None
    #: failed images in record order (setting, index, class, error)
    failures: pd.DataFrame | None = None

    @property
    def records(self) -> pd.DataFrame:
        """Every record, in canonical order (read from records.csv when first asked for)."""
        return self.stored.frame()

    @property
    def data(self) -> ImageSet:
        """The selected images in memory (read when first asked for)."""
        if not hasattr(self, "_data"):
            self._data = self.selection.load()
        return self._data

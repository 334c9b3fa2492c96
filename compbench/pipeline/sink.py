"""Where a run's records go as its units finish: records.csv (or memory, for a run that writes
no folder), the summary, and what the figures, the manifest and the report need from them.
Everything is gathered as the records pass, so nothing written is read again."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import METRIC_ERROR
from ..present.per_image import PerImage
from ..run.units import LOST, UnitResult
from ..store.records_file import RecordsFile
from ..store.schema import RecordBlock, column_of
from ..store.summary import SummaryBuilder
from .plan import RunPlan
from .result import RecordsInMemory, RecordsOnDisk, StoredRecords
from .rows import unit_records

#: what the report lists of failed images (all are in records.csv)
FAILURE_COLUMNS = ("setting", "index", "image", "class", "error")


@dataclass
class Gathered:
    """What the finish of a run needs, gathered from the records as they passed."""

    summary: pd.DataFrame
    records: StoredRecords
    #: setting -> {position: reconstruction} of the sample images
    samples: dict[str, dict[int, np.ndarray]]
    #: setting -> {position: {panel name: image}} (``Codec.figure_panels``)
    panels: dict[str, dict[int, dict[str, np.ndarray]]]
    #: the records of the sample images (what the figure grids print beside them)
    sample_records: pd.DataFrame | None
    #: setting -> codec misbehaviour that cost no image
    notes: dict[str, list[str]]
    #: failed images, in record order
    failures: pd.DataFrame
    #: metric_error note -> images, in order of first appearance
    metric_errors: dict[str, int] = field(default_factory=dict)
    #: why units were not run where they were sent -> images (nothing of them recorded)
    refused: dict[str, int] = field(default_factory=dict)
    #: every image's values by setting, compactly (the report's per-image tables)
    per_image: PerImage | None = None
    #: what lost images to the infrastructure (``Dask scheduler lost``) -> images (recorded as
    #: ``lost: ...``, run again by ``--resume``)
    lost: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return len(self.failures)


def metric_notes(rows: RecordBlock | pd.DataFrame) -> list[str]:
    """The ``metric_error`` notes of some rows, one per row that has one (why a metric is NaN
    there); none when every metric was measured (a column of NaN, as most units report)."""
    if METRIC_ERROR not in rows:
        return []
    values = np.asarray(rows[METRIC_ERROR])
    if values.dtype != object:
        return []
    return [str(note) for note in values.tolist() if isinstance(note, str) and note]


class RecordsSink:
    """Takes each finished unit (:meth:`accept`) and the rows a resumed run already has."""

    def __init__(self, plan: RunPlan, path: Path | None) -> None:
        self.plan = plan
        self._ordinal = plan.ordinal_of
        self._expected = plan.expected_rows()
        self._wanted = np.asarray(plan.sample_positions, dtype=np.int64)
        self.summary = SummaryBuilder(list(plan.class_names), plan.metrics)
        self.samples: dict[str, dict[int, np.ndarray]] = {spec.label: {} for spec in plan.specs}
        self.panels: dict[str, dict[int, dict[str, np.ndarray]]] = {spec.label: {} for spec in plan.specs}
        self.notes: dict[str, list[str]] = {}
        # the sample images' and the failed images' rows, column by column, a part per unit: one
        # frame of each is built at the end (a frame per unit would cost ~0.5 ms each)
        self._sample_rows: list[dict[str, np.ndarray]] = []
        self._sample_keys: list[np.ndarray] = []
        self._failures: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
        self._metric_errors: dict[str, int] = {}
        self._blocks: list[tuple[np.ndarray, RecordBlock]] = []  # a run without a folder keeps them
        self._again: set[tuple[int, int]] = set()  # recorded before, run again now
        #: why units were not run where they were sent (nothing of them recorded) -> images
        self.refused: dict[str, int] = {}
        # the report's per-image tables: only a run that writes a folder has a report
        self.per_image = (PerImage(plan.metrics.names, plan.metrics, worst_metric=plan.rd_metrics[0])
                          if path is not None else None)
        #: what lost images to the infrastructure -> images (recorded as ``lost: ...``)
        self.lost: dict[str, int] = {}
        self.writer = self._open_writer(path) if path is not None else None

    def _open_writer(self, path: Path) -> RecordsFile:
        if not self.plan.output.resume:
            return RecordsFile.create(path, self.plan.columns)
        position_of = {image: position for position, image in self.plan.image_ids.items()}
        return RecordsFile.resume(path, self.plan.columns, self._ordinal, position_of, seen=self._seen_before)

    def _seen_before(self, chunk: pd.DataFrame, keys: np.ndarray) -> None:
        """Rows a resumed run already has: gathered, except those it runs again (lost to the
        infrastructure; with ``retry_failed``, every failed one), whose new rows replace them."""
        errors = chunk["error"].to_numpy(dtype=str)
        again = np.char.startswith(errors, LOST)
        if self.plan.output.retry_failed:
            again |= errors != ""
        if again.any():
            self._again.update(map(tuple, keys[again].tolist()))
            chunk, keys = chunk[~again], keys[~again]
        self._gather(chunk, keys)

    @property
    def rows(self) -> int:
        return self.writer.rows if self.writer is not None else sum(len(keys) for keys, _ in self._blocks)

    def recorded(self) -> set[tuple[int, int]]:
        """(setting ordinal, position) pairs already recorded (by the run this one resumes), but
        for those it runs again."""
        return self.writer.recorded() - self._again if self.writer is not None else set()

    def recorded_ok(self) -> set[tuple[int, int]]:
        """(setting ordinal, position) of the sample images recorded without an error before
        this run."""
        if not self._sample_rows:
            return set()
        ok = np.concatenate([rows["error"] for rows in self._sample_rows]) == ""
        return set(map(tuple, np.concatenate(self._sample_keys)[ok].tolist()))

    def accept(self, result: UnitResult, record: bool = True) -> None:
        """A finished unit: its rows recorded (unless ``record`` is False: a sample image
        encoded again for the figures of a resumed run), its samples and notes kept."""
        if result.refused:
            self.refused[result.refused] = self.refused.get(result.refused, 0) + len(result.positions)
            return
        label = result.unit.spec.label
        self.samples[label].update(result.samples)
        self.panels[label].update(result.panels)
        for note in result.notes:
            if note not in self.notes.setdefault(label, []):
                self.notes[label].append(note)
        if not record:
            return
        for message in result.errors.values():
            if message.startswith(LOST):  # "lost: Dask scheduler lost (FutureCancelledError: ...)"
                why = message[len(LOST):].split(" (", 1)[0]
                self.lost[why] = self.lost.get(why, 0) + 1
        block = unit_records(result, self.plan)
        keys = np.column_stack([np.full(len(result.positions), self._ordinal[label]),
                                np.asarray(result.positions, dtype=np.int64)])
        if self.writer is not None:
            self.writer.append(block, keys)
        else:
            self._blocks.append((keys, block))
        self._gather(block, keys)

    def _gather(self, rows: RecordBlock | pd.DataFrame, keys: np.ndarray) -> None:
        """What the summary, figures, manifest and report need from some rows."""
        self.summary.add(rows, order=keys[:, 1])
        if self.per_image is not None:
            self.per_image.add(rows, order=keys[:, 1])
        for label in dict.fromkeys(np.asarray(rows["setting"]).tolist()):
            if self.summary.rows_of(label) >= self._expected.get(label, np.inf):
                self.summary.settle(label)
                if self.per_image is not None:
                    self.per_image.settle(label)
        picked = np.flatnonzero(np.isin(keys[:, 1], self._wanted))
        failed = np.flatnonzero(np.asarray(rows["error"], dtype=object) != "")
        for note in metric_notes(rows):
            self._metric_errors[note] = self._metric_errors.get(note, 0) + 1
        if len(picked):
            self._sample_rows.append(_some_rows(rows, picked, self.plan.columns))
            self._sample_keys.append(keys[picked])
        if len(failed):
            self._failures.append((keys[failed], _some_rows(rows, failed, FAILURE_COLUMNS)))

    def close(self) -> None:
        """Stop writing (an interrupted run: the rows on disk are whole)."""
        if self.writer is not None:
            self.writer.close()

    def finish(self) -> Gathered:
        """Records in canonical order (setting, then image), and what was gathered."""
        if self.writer is not None:
            self.writer.finish()
            records: StoredRecords = RecordsOnDisk(self.writer.path)
        else:
            records = RecordsInMemory.of_blocks(self._blocks, self.plan.columns)
            self._blocks = []
        return Gathered(summary=self.summary.frame([spec.label for spec in self.plan.specs]), records=records, samples=self.samples, panels=self.panels,
                        sample_records=_frame(self._sample_rows, self.plan.columns) if self._sample_rows else None,
                        notes=self.notes, failures=self._failures_in_order(),
                        metric_errors=dict(list(self._metric_errors.items())[:20]), refused=dict(self.refused),
                        lost=dict(self.lost), per_image=self.per_image)

    def _failures_in_order(self) -> pd.DataFrame:
        if not self._failures:
            return pd.DataFrame(columns=list(FAILURE_COLUMNS))
        keys = np.concatenate([k for k, _ in self._failures])
        rows = _frame([part for _, part in self._failures], FAILURE_COLUMNS)
        return rows.iloc[np.lexsort((keys[:, 1], keys[:, 0]))].reset_index(drop=True)


def _some_rows(rows: RecordBlock | pd.DataFrame, which: np.ndarray, columns) -> dict[str, np.ndarray]:
    """Some rows' values, column by column (NaN in a column the rows lack)."""
    n = len(rows["setting"])
    return {name: np.asarray(column_of(rows, name, n))[which] for name in columns}


def _frame(parts: list[dict[str, np.ndarray]], columns) -> pd.DataFrame:
    """One frame of parts of rows (:func:`_some_rows`)."""
    return pd.DataFrame({name: np.concatenate([part[name] for part in parts]) for name in columns})

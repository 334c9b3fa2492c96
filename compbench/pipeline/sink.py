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
from ..run.units import UnitResult
from ..store.records_file import RecordsFile
from ..store.schema import RecordBlock, column_of
from ..store.summary import SummaryBuilder
from .plan import RunPlan
from .result import RecordsInMemory, RecordsOnDisk
from .rows import one_line, unit_records

#: what the report lists of failed images (all are in records.csv)
FAILURE_COLUMNS = ("setting", "index", "class", "error")


@dataclass
class Gathered:
    """What the finish of a run needs, gathered from the records as they passed."""

    summary: pd.DataFrame
    records: RecordsInMemory | RecordsOnDisk
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
    #: every image's values by setting, compactly (the report's per-image tables)
    per_image: PerImage | None = None

    @property
    def errors(self) -> int:
        return len(self.failures)


class RecordsSink:
    """Takes each finished unit (:meth:`accept`) and the rows a resumed run already has."""

    def __init__(self, plan: RunPlan, path: Path | None) -> None:
        self.plan = plan
        self._ordinal = plan.ordinal_of
        self._expected = plan.expected_rows()
        self._wanted = {int(plan.source.indices[p]) for p in plan.sample_positions}
        self.summary = SummaryBuilder([one_line(name) for name in plan.class_names], plan.metrics)
        self.samples: dict[str, dict[int, np.ndarray]] = {spec.label: {} for spec in plan.specs}
        self.panels: dict[str, dict[int, dict[str, np.ndarray]]] = {spec.label: {} for spec in plan.specs}
        self.notes: dict[str, list[str]] = {}
        self._sample_rows: list[pd.DataFrame] = []
        self._failures: list[tuple[np.ndarray, pd.DataFrame]] = []
        self._metric_errors: dict[str, int] = {}
        self._blocks: list[tuple[np.ndarray, RecordBlock]] = []  # a run without a folder keeps them
        self.per_image = PerImage(plan.metrics.names, plan.metrics, worst_metric=plan.rd_metrics[0])
        self.writer = self._open_writer(path) if path is not None else None

    def _open_writer(self, path: Path) -> RecordsFile:
        if not self.plan.output.resume:
            return RecordsFile.create(path, self.plan.columns)
        position_of = {int(self.plan.source.indices[p]): int(p) for p in self.plan.selection.tolist()}
        return RecordsFile.resume(path, self.plan.columns, self._ordinal, position_of, seen=self._gather)

    @property
    def rows(self) -> int:
        return self.writer.rows if self.writer is not None else sum(len(keys) for keys, _ in self._blocks)

    def recorded(self) -> set[tuple[int, int]]:
        """(setting ordinal, position) pairs already recorded (by the run this one resumes)."""
        return self.writer.recorded() if self.writer is not None else set()

    def recorded_ok(self) -> set[tuple[str, int]]:
        """(setting, index) of the sample images recorded without an error before this run."""
        if not self._sample_rows:
            return set()
        rows = pd.concat(self._sample_rows)
        ok = rows[rows["error"] == ""]
        return set(zip(ok["setting"], ok["index"].astype(int).tolist()))

    def accept(self, result: UnitResult, record: bool = True) -> None:
        """A finished unit: its rows recorded (unless ``record`` is False: a sample image
        encoded again for the figures of a resumed run), its samples and notes kept."""
        label = result.unit.spec.label
        self.samples[label].update(result.samples)
        self.panels[label].update(result.panels)
        for note in result.notes:
            if note not in self.notes.setdefault(label, []):
                self.notes[label].append(note)
        if not record:
            return
        block = unit_records(result, self.plan.source, self.plan.class_names, self.plan.data.dataset,
                             self.plan.data.split, self.plan.columns)
        keys = np.column_stack([np.full(len(result.positions), self._ordinal[label]),
                                np.asarray(result.positions, dtype=np.int64)])
        if self.writer is not None:
            self.writer.append(block, keys)
        else:
            self._blocks.append((keys, block))
        self._gather(block, keys)

    def _gather(self, rows: RecordBlock | pd.DataFrame, keys: np.ndarray) -> None:
        """What the summary, figures, manifest and report need from some rows."""
        frame = rows if isinstance(rows, pd.DataFrame) else None
        self.summary.add(rows, order=keys[:, 1])
        self.per_image.add(rows, order=keys[:, 1])
        for label in dict.fromkeys(np.asarray(rows["setting"]).tolist()):
            if self.summary.rows_of(label) >= self._expected.get(label, np.inf):
                self.summary.settle(label)
                self.per_image.settle(label)
        index = np.asarray(rows["index"])
        picked = np.flatnonzero(np.isin(index, list(self._wanted))) if self._wanted else []
        failed = np.flatnonzero(np.asarray(rows["error"], dtype=object) != "")
        if len(picked) or len(failed) or METRIC_ERROR in rows:
            frame = frame if frame is not None else pd.DataFrame(
                {name: column_of(rows, name, len(keys)) for name in self.plan.columns})
        if len(picked):
            self._sample_rows.append(frame.iloc[picked])
        if len(failed):
            self._failures.append((keys[failed], frame.iloc[failed][list(FAILURE_COLUMNS)]))
        if METRIC_ERROR in rows:
            notes = frame[METRIC_ERROR].astype(object).fillna("")
            for note, count in notes[notes != ""].value_counts(sort=False).items():
                self._metric_errors[str(note)] = self._metric_errors.get(str(note), 0) + int(count)

    def close(self) -> None:
        """Stop writing (an interrupted run: the rows on disk are whole)."""
        if self.writer is not None:
            self.writer.close()

    def finish(self) -> Gathered:
        """Records in canonical order (setting, then image), and what was gathered."""
        if self.writer is not None:
            self.writer.finish()
            records = RecordsOnDisk(self.writer.path)
        else:
            records = RecordsInMemory.of_blocks(self._blocks, self.plan.columns)
            self._blocks = []
        return Gathered(summary=self.summary.frame([spec.label for spec in self.plan.specs]), records=records, samples=self.samples, panels=self.panels,
                        sample_records=pd.concat(self._sample_rows, ignore_index=True) if self._sample_rows else None,
                        notes=self.notes, failures=self._failures_in_order(),
                        metric_errors=dict(list(self._metric_errors.items())[:20]), per_image=self.per_image)

    def _failures_in_order(self) -> pd.DataFrame:
        if not self._failures:
            return pd.DataFrame(columns=list(FAILURE_COLUMNS))
        keys = np.concatenate([k for k, _ in self._failures])
        rows = pd.concat([f for _, f in self._failures], ignore_index=True)
        return rows.iloc[np.lexsort((keys[:, 1], keys[:, 0]))].reset_index(drop=True)

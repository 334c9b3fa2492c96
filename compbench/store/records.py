"""Per-image records: their columns, one frame per finished work unit, and records.csv."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..contracts.errors import CompbenchError
from ..run.metric_set import CORE_METRICS, METRIC_ERROR

KEY_COLUMNS = ["codec", "setting", "dataset", "split", "index", "label", "class"]
#: per-record columns that are neither keys nor metrics (metric_error: why a metric is NaN)
INFO_COLUMNS = ["pixels", METRIC_ERROR, "error"]
#: the core metrics (declared in compbench.run.metric_set), in column order
SUMMARY_METRICS = [metric.name for metric in CORE_METRICS]
#: records.csv columns in order; codec-declared and plugin metrics go before "error"
RECORD_COLUMNS = KEY_COLUMNS + ["pixels"] + SUMMARY_METRICS + ["error"]


def unit_records(result, labels: np.ndarray, indices: np.ndarray, class_names, dataset: str, split: str) -> pd.DataFrame:
    """One row per image of a finished work unit."""
    unit = result.unit
    positions = result.positions
    frame = pd.DataFrame({
        "codec": unit.spec.name,
        "setting": unit.spec.label,
        "dataset": dataset,
        "split": split,
        "index": indices[positions],
        "label": labels[positions],
        "class": [class_names[label] for label in labels[positions]],
        "pixels": result.pixels,
        **result.metrics,
    })
    frame["error"] = [result.errors.get(int(p), "") for p in positions]
    return frame


def prepare_out_dir(out: Path) -> Path:
    """Create the results folder and prove it is writable, or fail with a one-line fix."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise CompbenchError(
            f"cannot write results to {out} ({exc.strerror or exc}); choose a writable folder with --out"
        ) from None
    return out


class RecordsWriter:
    """Appends each finished unit's rows to records.csv, so a killed run keeps what it did.

    Writing the CSV is the slow part of a big run (~7 s for 240,000 rows here), so it is written
    once, as units finish, in the run's final order; only a plugin metric that appears mid-run
    (a column the header lacks) makes :meth:`finish` write the file again.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.columns, self.rows, self.stale = path, list(RECORD_COLUMNS), 0, False

    def append(self, frame: pd.DataFrame) -> None:
        if self.rows and set(frame.columns) - set(self.columns):
            self.stale = True
        if not self.rows:
            extra = [c for c in frame.columns if c not in self.columns]
            self.columns = self.columns[:-1] + extra + self.columns[-1:]
        frame.reindex(columns=self.columns).to_csv(self.path, mode="a", header=not self.rows, index=False)
        self.rows += len(frame)

    def finish(self, records: pd.DataFrame) -> None:
        if self.stale:
            records.to_csv(self.path, index=False)


def record_frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The run's records: every unit's rows, with the columns of records.csv."""
    records = pd.concat(frames, ignore_index=True)
    ordered = RECORD_COLUMNS[:-1] + [c for c in records if c not in RECORD_COLUMNS] + ["error"]
    return records.reindex(columns=ordered)



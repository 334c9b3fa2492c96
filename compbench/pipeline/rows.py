"""A finished work unit as records.csv rows: the one place that knows both a unit's result
(:mod:`compbench.run.units`) and the records' columns (:mod:`compbench.store.schema`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..contracts.dataset import ImageSource
from ..run.units import UnitResult
from ..store.schema import RecordBlock


def unit_records(result: UnitResult, source: ImageSource, class_names: Sequence[str], dataset: str, split: str,
                 columns: Sequence[str]) -> RecordBlock:
    """One row per image of a finished work unit, in the unit's position order."""
    unit = result.unit
    positions = np.asarray(result.positions, dtype=int)
    labels = np.asarray(source.labels)[positions]
    errors = np.full(len(positions), "", dtype=object)
    if result.errors:
        row = {int(p): i for i, p in enumerate(positions)}
        for position, message in result.errors.items():
            errors[row[position]] = one_line(message)
    n = len(positions)
    values = {
        "codec": np.full(n, unit.spec.name, dtype=object),
        "setting": np.full(n, unit.spec.label, dtype=object),
        "dataset": np.full(n, dataset, dtype=object),
        "split": np.full(n, split, dtype=object),
        "index": np.asarray(source.indices)[positions],
        "label": labels,
        "class": class_texts(class_names, labels)[labels],
        "pixels": np.full(n, result.pixels),
        **result.metrics,
        "error": errors,
    }
    return {column: values[column] if column in values else np.full(n, np.nan) for column in columns}


def class_texts(class_names: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """The class column's text per label value: the class name, or the label itself for a
    label beyond the names."""
    names = [one_line(name) for name in class_names]
    names += [str(label) for label in range(len(names), int(np.max(labels, initial=0)) + 1)]
    return np.array(names, dtype=object)


def one_line(text) -> str:
    # one row is one line: that is what makes a torn row detectable and rows copyable by bytes
    return str(text).replace("\r", " ").replace("\n", " ")

"""A finished work unit as records.csv rows: the one place that knows both a unit's result
(:mod:`compbench.run.units`) and the records' columns (:mod:`compbench.store.schema`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..run.units import UnitResult
from ..store.names import written_text
from ..store.schema import RecordBlock
from .plan import RunPlan


def unit_records(result: UnitResult, plan: RunPlan) -> RecordBlock:
    """One row per image of a finished work unit, in the unit's position order."""
    unit, source = result.unit, plan.source
    positions = np.asarray(result.positions, dtype=int)
    labels = np.asarray(source.labels)[positions]
    errors = np.full(len(positions), "", dtype=object)
    if result.errors:
        row = {int(p): i for i, p in enumerate(positions)}
        for position, message in result.errors.items():
            errors[row[position]] = written_text(message)
    n = len(positions)
    values = {
        "codec": np.full(n, unit.spec.name, dtype=object),
        "setting": np.full(n, unit.spec.label, dtype=object),
        "dataset": np.full(n, plan.data.dataset, dtype=object),
        "split": np.full(n, plan.data.split, dtype=object),
        "index": np.asarray(source.indices)[positions],
        "image": np.array([plan.image_ids[p] for p in positions.tolist()], dtype=object),
        "label": labels,
        "class": class_texts(plan.class_names, labels)[labels],
        "pixels": np.full(n, result.pixels),
        **result.metrics,
        "error": errors,
    }
    return {column: values[column] if column in values else np.full(n, np.nan) for column in plan.columns}


def class_texts(class_names: Sequence[str], labels: np.ndarray) -> np.ndarray:
    """The class column's text per label value: the class name, or the label itself for a
    label beyond the names (the plan's class names are already written: :mod:`..store.names`)."""
    names = list(class_names)
    names += [str(label) for label in range(len(names), int(np.max(labels, initial=0)) + 1)]
    return np.array(names, dtype=object)

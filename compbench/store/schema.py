"""records.csv's columns: the keys, the metrics of the run, the per-record facts, and a unit's
rows as plain column arrays (:data:`RecordBlock`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..metrics import CORE_METRIC_NAMES, METRIC_ERROR, TIMING_NAMES

#: ``image`` is the image's stable identity in its dataset (a file's path in the folder, a
#: photograph's name, the index of an array split): what ``--resume`` matches records by
KEY_COLUMNS = ["codec", "setting", "dataset", "split", "index", "image", "label", "class"]


#: per-record columns that are neither keys nor metrics (metric_error: why a metric is NaN)
INFO_COLUMNS = ["pixels", METRIC_ERROR, "error"]


#: records.csv columns of a run with core metrics only; plugin and codec metrics go before
#: metric_error
RECORD_COLUMNS = KEY_COLUMNS + ["pixels"] + list(CORE_METRIC_NAMES) + [METRIC_ERROR, "error"]


#: columns that differ between two runs of the same command (wall times)
TIMING_COLUMNS = list(TIMING_NAMES)


#: dtypes of the text columns when reading records back (class "0" stays text)
TEXT_COLUMNS = {"codec": str, "setting": str, "dataset": str, "split": str, "image": str, "class": str,
                METRIC_ERROR: str, "error": str}


def record_columns(metrics: Sequence[str] = ()) -> list[str]:
    """records.csv's columns for a run measuring these metrics (its MetricSet's names)."""
    extra = [name for name in dict.fromkeys(metrics) if name not in RECORD_COLUMNS]
    return RECORD_COLUMNS[:-2] + extra + [METRIC_ERROR, "error"]


#: one unit's records: column -> one value per image, in the order of records.csv's columns
#: (plain arrays: a DataFrame per unit cost the run 2-3 ms each, more than formatting its text)
RecordBlock = dict[str, np.ndarray]


def column_of(block: RecordBlock, column: str, rows: int) -> np.ndarray:
    """A block's values of a column; NaN for a column the block lacks (as reindexing a frame
    gives: a metric no codec of that unit reported)."""
    return block[column] if column in block else np.full(rows, np.nan)



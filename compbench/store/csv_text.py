"""records.csv's text: rows formatted as pandas' ``to_csv`` writes them, in a quarter of its
time (a sweep writes millions of values)."""

from __future__ import annotations

import numpy as np
import orjson
import pandas as pd

from .schema import RecordBlock

#: rows formatted at a time: a Python string per value costs ~60 bytes, so a whole unit's
#: (2,500 rows x ~30 columns) would hold ~5 MB at once, more than its text
CSV_BLOCK_ROWS = 500


def csv_rows(records: pd.DataFrame | RecordBlock) -> bytes:
    """The rows of a frame or a :data:`RecordBlock` as CSV lines (no header), as records.csv
    holds them: the text pandas' ``to_csv`` writes (floats as their shortest repr, NaN and None
    empty, a text field quoted when it holds a comma, a quote or a newline), built column by
    column in about a quarter of its time (a sweep writes millions of values;
    tests/test_results.py checks the two agree)."""
    if isinstance(records, pd.DataFrame):  # pandas selection once
        arrays = [records.iloc[:, k].to_numpy() for k in range(records.shape[1])]
    else:
        arrays = [np.asarray(values) for values in records.values()]
    rows = len(arrays[0]) if arrays else 0
    blocks = []
    for start in range(0, rows, CSV_BLOCK_ROWS):  # a block's strings at a time: bounded memory
        # a column equal to an earlier one (psnr_y = psnr on gray images, metrics a codec does
        # not report) is formatted once
        formatted: dict[tuple[str, bytes], list[str]] = {}
        columns = []
        for values in arrays:
            part = values[start : start + CSV_BLOCK_ROWS]
            key = (part.dtype.str, part.tobytes()) if part.dtype.kind in "fiub" else None
            text = formatted.get(key) if key else None
            if text is None:
                text = _column_text(part)
                if key:
                    formatted[key] = text
            columns.append(text)
        blocks.append(("\n".join(map(",".join, zip(*columns))) + "\n").encode("utf-8"))
    return b"".join(blocks)


def _column_text(values: np.ndarray) -> list[str]:
    kind = values.dtype.kind
    if kind == "f":
        return float_texts(values)
    items = values.tolist()
    if kind in "iu":
        return list(map(str, items))
    if kind == "b":
        return ["True" if value else "False" for value in items]
    if all(type(value) is str for value in items) and _few(distinct := set(items), items):
        return _mapped(items, {value: _text_field(value) for value in distinct})  # class names, settings
    return [_text_field(value) for value in items]


#: where orjson writes a float exactly as repr does (the same shortest digits, by Ryu's method,
#: in ~1/15 of the time); below and above, the two differ in form (0.00001 vs 1e-05, 1e+16 vs
#: 1e16 by turns), so repr writes those
ORJSON_AS_REPR = (1e-3, 1e15)


def float_texts(values: np.ndarray) -> list[str]:
    """Each value's repr, NaN as an empty field (a sweep writes millions of floats: repr's
    arbitrary-precision shortest digits cost ~2 µs each here)."""
    values = np.ascontiguousarray(values, dtype=np.float64)  # float32 too: its value, as repr of the float
    if values.size == 0:
        return []
    text = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode("ascii").split(",")
    magnitude = np.abs(values)
    low, high = ORJSON_AS_REPR
    plain = ((magnitude >= low) & (magnitude < high)) | (values == 0)  # NaN: False
    if not plain.any() and np.isnan(values).all():  # a column no image has (metric_error, error)
        return [""] * len(text)
    rest = np.flatnonzero(~plain)
    if len(rest):
        # a unit's images share one encode_s and one decode_s (its batch time over its images):
        # each distinct value's repr once (np.unique: NaN once, as the last value)
        distinct, which = np.unique(values[rest], return_inverse=True)
        shown = [repr(value) if value == value else "" for value in distinct.tolist()]
        for i, k in zip(rest.tolist(), which.tolist(), strict=True):
            text[i] = shown[k]
    return text


def _few(distinct: set, items: list) -> bool:
    return 4 * len(distinct) <= len(items)


def _mapped(items: list, text_of: dict) -> list[str]:
    return list(map(text_of.__getitem__, items))


def _text_field(value) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    if "," in text or '"' in text or "\n" in text:  # as the csv module quotes with "\n" line ends
        return '"' + text.replace('"', '""') + '"'
    return text



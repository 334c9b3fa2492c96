"""Reading records.csv: whole (:func:`read_records`) or a chunk at a time (:func:`iter_records`),
parsed the same way (text stays text, a torn last line is ignored)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..contracts.errors import CompbenchError
from .schema import TEXT_COLUMNS, RecordBlock, column_of


def whole_rows(path: Path) -> bytes:
    """The file's bytes up to and including its last newline (a torn last line dropped)."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    return data[: end + 1]


def read_records(path: str | Path) -> pd.DataFrame:
    """records.csv as a frame (a torn last line is ignored): text columns stay text, missing
    metrics are NaN, ``error`` is "" for images that came through."""
    path = Path(path)
    try:
        data = whole_rows(path)
    except OSError as exc:
        raise CompbenchError(f"cannot read {path} ({exc.strerror or exc})") from None
    if b"\n" not in data:
        raise CompbenchError(f"{path} holds no records (not even a header); run the command again")
    return _parsed(path, lambda: pd.read_csv(io.BytesIO(data), **READ_OPTIONS))


#: how records.csv is parsed: text stays text, "" is NaN in numbers (pandas 3 parses every
#: float back to the exact value written: tests/test_summary_file.py checks it)
READ_OPTIONS = {"dtype": TEXT_COLUMNS, "keep_default_na": False, "na_values": [""]}


def _parsed(path: Path, read) -> pd.DataFrame:
    """``read()``'s frame with text columns' NaN as ""; a parse error is one line."""
    try:
        records = read()
    except (ValueError, pd.errors.ParserError) as exc:
        raise CompbenchError(f"{path} does not parse as records ({exc})") from None
    for column in TEXT_COLUMNS:
        if column in records:
            records[column] = records[column].fillna("")
    return records


def iter_records(path: str | Path, chunk_rows: int):
    """records.csv (whole rows) as frames of ``chunk_rows`` rows, parsed as :func:`read_records`
    parses it; never the whole file in memory."""
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as file:
            end = last_newline(file, size)
            if end < 0:
                raise CompbenchError(f"{path} holds no records (not even a header); run the command again")
            reader = pd.read_csv(_Limited(file, end + 1), chunksize=chunk_rows, **READ_OPTIONS)
            while True:
                try:
                    yield _parsed(path, lambda: next(reader))
                except StopIteration:
                    return
    except OSError as exc:
        raise CompbenchError(f"cannot read {path} ({exc.strerror or exc})") from None


def last_newline(file, size: int) -> int:
    """Offset of the file's last newline (-1 if none): a torn last line is left out."""
    step = 1 << 16
    end = size
    while end > 0:
        start = max(0, end - step)
        file.seek(start)
        block = file.read(end - start)
        found = block.rfind(b"\n")
        if found >= 0:
            file.seek(0)
            return start + found
        end = start
    file.seek(0)
    return -1


class _Limited(io.RawIOBase):
    """The first ``limit`` bytes of a file, as a stream (pandas reads it in chunks)."""

    def __init__(self, file, limit: int) -> None:
        self._file, self._left = file, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._left)
        if n <= 0:
            return 0
        data = self._file.read(n)
        buffer[: len(data)] = data
        self._left -= len(data)
        return len(data)


def record_frame(blocks: list[RecordBlock], columns: Sequence[str]) -> pd.DataFrame:
    """The run's records: every unit's rows in this order, with the columns of records.csv."""
    if not blocks:
        return pd.DataFrame(columns=list(columns))
    sizes = [len(next(iter(block.values()))) for block in blocks]
    return pd.DataFrame({column: np.concatenate([column_of(block, column, n) for block, n in zip(blocks, sizes)])
                         for column in columns})

"""Writing records.csv: whole rows appended per unit, canonical order at the end.

records.csv is the run's ground truth and is never torn: each finished unit's rows are appended
with one write as soon as the unit finishes (whatever order units finish in), a failed write is
cut back to the last whole row, and at the end the rows are put into canonical order (setting,
then image position) by copying each row's bytes. A killed run leaves whole rows that
``--resume`` continues (:meth:`RecordsFile.resume`) and that :func:`read_records` reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..contracts.errors import CompbenchError
from .csv_text import csv_rows
from .files import cannot_write, replacing, write_atomic
from .records_reader import iter_records, last_newline
from .schema import RecordBlock, column_of

#: bytes copied at a time when records.csv is put in order
COPY_BYTES = 1 << 20
#: rows of an existing records.csv parsed at a time when a run resumes it
RESUME_CHUNK_ROWS = 20_000


class RecordsFile:
    """records.csv being written: whole rows appended per unit, canonical order at the end.

    Each row has a key (setting ordinal, image position) that defines the canonical order; the
    writer keeps every row's key and byte length, so :meth:`finish` reorders by copying bytes
    instead of parsing and re-formatting the rows.
    """

    def __init__(self, path: Path, columns: Sequence[str], header_size: int) -> None:
        self.path, self.columns = Path(path), list(columns)
        self.header_size = header_size
        self._keys: list[np.ndarray] = []  # (n, 2) int64 per write, in file order
        self._lengths: list[np.ndarray] = []
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            self.size = os.fstat(self._fd).st_size
        except OSError as exc:
            raise cannot_write(self.path, exc) from None

    @classmethod
    def create(cls, path: Path, columns: Sequence[str]) -> RecordsFile:
        """A new records.csv holding the header only (replacing any file of that name)."""
        header = (",".join(columns) + "\n").encode("utf-8")
        write_atomic(path, header)
        return cls(path, columns, len(header))

    @classmethod
    def resume(cls, path: Path, columns: Sequence[str], settings: Mapping[str, int],
               positions: Mapping[str, int], seen: Callable[[pd.DataFrame, np.ndarray], None] | None = None,
               ) -> RecordsFile:
        """Continue an existing records.csv: a torn last line is cut off, and the rows already
        there are keyed by ``settings`` (label -> ordinal) and ``positions`` (the ``image`` column,
        each image's identity -> its position in this run).
        ``seen(chunk, keys)`` is shown the rows already there, a parsed chunk at a time (the
        summary and the figures of a resumed run count them). A missing or empty file starts
        afresh."""
        path = Path(path)
        header_size = _header_size(path)
        if header_size is None:
            return cls.create(path, columns)
        with open(path, "rb") as file:
            found = file.read(header_size - 1).decode("utf-8").split(",")
        if found != list(columns):
            raise CompbenchError(
                f"{path} has other columns than this run writes ({', '.join(sorted(set(found) ^ set(columns)))}); "
                "resume with the command that started it (see manifest.json), or start a new --out folder")
        _cut_torn_line(path)
        records = cls(path, columns, header_size)
        for chunk in iter_records(path, RESUME_CHUNK_ROWS):
            keys = _keys(path, chunk, settings, positions)
            records._keys.append(keys)
            if seen is not None:
                seen(chunk, keys)
        if records._keys:
            records._lengths.append(_line_lengths_of_file(path, header_size))
        return records

    @property
    def rows(self) -> int:
        return int(sum(len(k) for k in self._keys))

    def recorded(self) -> set[tuple[int, int]]:
        """The (setting ordinal, position) pairs already in the file."""
        if not self._keys:
            return set()
        return set(map(tuple, np.concatenate(self._keys).tolist()))

    def append(self, block: RecordBlock, keys: np.ndarray) -> None:
        """Append a unit's rows (``keys``: (n, 2) setting ordinal and position per row) with
        one write; on any failure the file is cut back to its last whole row."""
        n = len(keys)
        data = csv_rows({c: column_of(block, c, n) for c in self.columns})
        lengths = _line_lengths(data)
        if len(lengths) != n:
            raise AssertionError("a record spans more than one line")
        view, written = memoryview(data), 0
        try:
            while written < len(data):
                written += os.write(self._fd, view[written:])
        except OSError as exc:
            self._cut_back()
            raise cannot_write(self.path, exc) from None
        except BaseException:  # interrupted mid-write: never leave a torn row behind
            self._cut_back()
            raise
        self.size += len(data)
        self._keys.append(np.asarray(keys, dtype=np.int64).reshape(-1, 2))
        self._lengths.append(lengths)

    def _cut_back(self) -> None:
        try:
            os.ftruncate(self._fd, self.size)
        except OSError:
            pass

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def finish(self) -> None:
        """Put the rows in canonical order (setting, then position), keeping the last of repeated
        keys (an image run again by ``--resume`` replaces its lost record); written through a
        temporary file, so the old file stays whole until the new is."""
        self.close()
        if not self._keys:
            return
        keys = np.concatenate(self._keys)
        lengths = np.concatenate(self._lengths)
        newest_first = -np.arange(len(keys))
        order = np.lexsort((newest_first, keys[:, 1], keys[:, 0]))  # each key's latest row first
        ordered = keys[order]
        keep = np.ones(len(order), dtype=bool)
        keep[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
        order = order[keep]
        if len(order) == len(keys) and (np.diff(order) == 1).all():
            return  # already canonical
        starts = self.header_size + np.concatenate(([0], np.cumsum(lengths)[:-1]))
        # rows that follow each other in the file and in the new order are copied as one block
        # (a unit's rows are already in order, and most units finish in order), COPY_BYTES at a
        # time: a block can be most of the file
        breaks = np.flatnonzero(np.diff(order) != 1) + 1
        with open(self.path, "rb") as source, replacing(self.path) as temp, open(temp, "wb") as target:
            target.write(source.read(self.header_size))
            for run in np.split(order, breaks):
                first, last = int(run[0]), int(run[-1])
                source.seek(int(starts[first]))
                left = int(starts[last] + lengths[last] - starts[first])
                while left:
                    piece = source.read(min(left, COPY_BYTES))
                    if not piece:
                        raise CompbenchError(f"{self.path} was cut short while compbench was putting it in order; "
                                             "run again with --overwrite")
                    target.write(piece)
                    left -= len(piece)
        self._keys, self._lengths = [keys[order]], [lengths[order]]

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    _fd: int | None = None


def _line_lengths(data: bytes) -> np.ndarray:
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    return np.diff(np.concatenate(([-1], ends))).astype(np.int64)


def _keys(path: Path, chunk: pd.DataFrame, settings: Mapping[str, int], positions: Mapping[str, int]) -> np.ndarray:
    """(setting ordinal, position) of each row of a chunk; a row this run would not write is
    refused."""
    ordinals = chunk["setting"].map(settings)
    if ordinals.isna().any():
        label = chunk["setting"][ordinals.isna()].iloc[0]
        raise CompbenchError(f"{path} holds records of setting {label!r}, which this run does not have; "
                             "resume with the command that started it (see manifest.json)")
    where = chunk["image"].map(positions)
    if where.isna().any():
        image = chunk["image"][where.isna()].iloc[0]
        raise CompbenchError(f"{path} holds a record of image {image!r}, which this run does not select; "
                             "resume with the command that started it (see manifest.json), or start afresh "
                             "with --overwrite")
    return np.column_stack([ordinals.to_numpy(np.int64), where.to_numpy(np.int64)])


def _header_size(path: Path) -> int | None:
    """Bytes of the header line, newline included; None for a missing file or one without a
    whole header."""
    try:
        with open(path, "rb") as file:
            head = file.read(1 << 16)
    except FileNotFoundError:
        return None
    end = head.find(b"\n")
    return None if end < 0 else end + 1


def _cut_torn_line(path: Path) -> None:
    """Cut a torn last line (what a kill mid-write leaves) back to the last whole row."""
    size = path.stat().st_size
    with open(path, "rb") as file:
        end = last_newline(file, size) + 1
    if end != size:
        try:
            os.truncate(path, end)
        except OSError as exc:
            raise cannot_write(path, exc) from None


def _line_lengths_of_file(path: Path, start: int) -> np.ndarray:
    """The byte length of every line after ``start``, read COPY_BYTES at a time."""
    ends, offset = [], start
    with open(path, "rb") as file:
        file.seek(start)
        while block := file.read(COPY_BYTES):
            ends.append(np.flatnonzero(np.frombuffer(block, dtype=np.uint8) == ord("\n")) + offset)
            offset += len(block)
    ends = np.concatenate(ends) if ends else np.empty(0, dtype=np.int64)
    return np.diff(np.concatenate(([start - 1], ends))).astype(np.int64)




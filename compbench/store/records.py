"""Per-image records: their columns, one frame per finished work unit, and records.csv.

records.csv is the run's ground truth and is never torn: each finished unit's rows are appended
with one write as soon as the unit finishes (whatever order units finish in), a failed write is
cut back to the last whole row, and at the end the rows are put into canonical order (setting,
then image position) by copying each row's bytes. A killed run leaves whole rows that
``--resume`` continues (:meth:`RecordsFile.resume`) and that :func:`read_records` reads.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..contracts.errors import CompbenchError
from ..metrics import CORE_METRIC_NAMES, METRIC_ERROR, TIMING_NAMES
from .files import cannot_write, replacing, write_atomic

KEY_COLUMNS = ["codec", "setting", "dataset", "split", "index", "label", "class"]
#: per-record columns that are neither keys nor metrics (metric_error: why a metric is NaN)
INFO_COLUMNS = ["pixels", METRIC_ERROR, "error"]
#: records.csv columns of a run with core metrics only; plugin and codec metrics go before
#: metric_error
RECORD_COLUMNS = KEY_COLUMNS + ["pixels"] + list(CORE_METRIC_NAMES) + [METRIC_ERROR, "error"]
#: columns that differ between two runs of the same command (wall times)
TIMING_COLUMNS = list(TIMING_NAMES)
#: dtypes of the text columns when reading records back (class "0" stays text)
TEXT_COLUMNS = {"codec": str, "setting": str, "dataset": str, "split": str, "class": str,
                METRIC_ERROR: str, "error": str}


def record_columns(metrics: Sequence[str] = ()) -> list[str]:
    """records.csv's columns for a run measuring these metrics (its MetricSet's names)."""
    extra = [name for name in dict.fromkeys(metrics) if name not in RECORD_COLUMNS]
    return RECORD_COLUMNS[:-2] + extra + [METRIC_ERROR, "error"]


#: one unit's records: column -> one value per image, in the order of records.csv's columns
#: (plain arrays: a DataFrame per unit cost the run 2-3 ms each, more than formatting its text)
RecordBlock = dict[str, np.ndarray]


def unit_records(result, source, class_names, dataset: str, split: str,
                 columns: Sequence[str] = RECORD_COLUMNS) -> RecordBlock:
    """One row per image of a finished work unit, in the unit's position order."""
    unit = result.unit
    positions = np.asarray(result.positions, dtype=int)
    labels = np.asarray(source.labels)[positions]
    names = np.array([_one_line(name) for name in class_names] +
                     [str(label) for label in range(len(class_names), int(labels.max(initial=0)) + 1)], dtype=object)
    errors = np.full(len(positions), "", dtype=object)
    if result.errors:
        row = {int(p): i for i, p in enumerate(positions)}
        for position, message in result.errors.items():
            errors[row[position]] = _one_line(message)
    n = len(positions)
    values = {
        "codec": np.full(n, unit.spec.name, dtype=object),
        "setting": np.full(n, unit.spec.label, dtype=object),
        "dataset": np.full(n, dataset, dtype=object),
        "split": np.full(n, split, dtype=object),
        "index": np.asarray(source.indices)[positions],
        "label": labels,
        "class": names[labels],
        "pixels": np.full(n, result.pixels),
        **result.metrics,
        "error": errors,
    }
    return {column: values[column] if column in values else np.full(n, np.nan) for column in columns}


def _one_line(text) -> str:
    # one row is one line: that is what makes a torn row detectable and rows copyable by bytes
    return str(text).replace("\r", " ").replace("\n", " ")


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


#: bytes copied at a time when records.csv is put in order
COPY_BYTES = 1 << 20
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
    kind, items = values.dtype.kind, values.tolist()
    if kind == "f":
        zeros = values == 0
        # few distinct values (sizes, per-batch times): each formatted once. Not when -0.0 is
        # there: it equals 0.0 as a key but reads "-0.0"
        if _few(distinct := set(items), items) and not np.signbit(values[zeros]).any():
            return _mapped(items, {v: "" if v != v else repr(v) for v in distinct})
        text = list(map(repr, items))
        for i in np.flatnonzero(np.isnan(values)).tolist():
            text[i] = ""
        return text
    if kind in "iu":
        return list(map(str, items))
    if kind == "b":
        return ["True" if value else "False" for value in items]
    if all(type(value) is str for value in items) and _few(distinct := set(items), items):
        return _mapped(items, {value: _text_field(value) for value in distinct})  # class names, settings
    return [_text_field(value) for value in items]


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
               positions: Mapping[int, int]) -> RecordsFile:
        """Continue an existing records.csv: a torn last line is cut off, and the rows already
        there are keyed by ``settings`` (label -> ordinal) and ``positions`` (index -> position).
        A missing or empty file starts afresh."""
        path = Path(path)
        data = _whole_rows(path) if path.exists() else b""
        if b"\n" not in data:
            return cls.create(path, columns)
        header_size = data.index(b"\n") + 1
        found = data[: header_size - 1].decode("utf-8").split(",")
        if found != list(columns):
            raise CompbenchError(
                f"{path} has other columns than this run writes ({', '.join(sorted(set(found) ^ set(columns)))}); "
                "resume with the command that started it (see manifest.json), or start a new --out folder")
        if os.path.getsize(path) != len(data):  # a torn last line: cut back to the last whole row
            try:
                os.truncate(path, len(data))
            except OSError as exc:
                raise cannot_write(path, exc) from None
        records = cls(path, columns, header_size)
        body = data[header_size:]
        if body:
            keys = _parse_keys(path, body, settings, positions)
            records._keys.append(keys)
            records._lengths.append(_line_lengths(body))
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
        """Put the rows in canonical order (setting, then position), dropping repeated keys;
        written through a temporary file, so the old file stays whole until the new is."""
        self.close()
        if not self._keys:
            return
        keys = np.concatenate(self._keys)
        lengths = np.concatenate(self._lengths)
        order = np.lexsort((keys[:, 1], keys[:, 0]))  # stable: the first of repeated keys first
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


def _whole_rows(path: Path) -> bytes:
    """The file's bytes up to and including its last newline (a torn last line dropped)."""
    data = path.read_bytes()
    end = data.rfind(b"\n")
    return data[: end + 1]


def _line_lengths(data: bytes) -> np.ndarray:
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n"))
    return np.diff(np.concatenate(([-1], ends))).astype(np.int64)


def _parse_keys(path: Path, body: bytes, settings: Mapping[str, int], positions: Mapping[int, int]) -> np.ndarray:
    header = ["setting", "index"]
    try:
        rows = pd.read_csv(io.BytesIO(body), header=None, dtype=str, keep_default_na=False,
                           skip_blank_lines=False)
    except (ValueError, pd.errors.ParserError) as exc:
        raise CompbenchError(f"{path} does not parse as records ({exc}); start a new --out folder") from None
    setting_col, index_col = RECORD_COLUMNS.index(header[0]), RECORD_COLUMNS.index(header[1])
    keys = np.empty((len(rows), 2), dtype=np.int64)
    for row, (label, index) in enumerate(zip(rows[setting_col], rows[index_col])):
        if label not in settings:
            raise CompbenchError(f"{path} holds records of setting {label!r}, which this run does not have; "
                                 "resume with the command that started it (see manifest.json)")
        try:
            keys[row] = settings[label], positions[int(index)]
        except (KeyError, ValueError):
            raise CompbenchError(f"{path} holds a record of image {index!r}, which this run does not select; "
                                 "resume with the command that started it (see manifest.json)") from None
    return keys


def read_records(path: str | Path) -> pd.DataFrame:
    """records.csv as a frame (a torn last line is ignored): text columns stay text, missing
    metrics are NaN, ``error`` is "" for images that came through."""
    path = Path(path)
    try:
        data = _whole_rows(path)
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
            end = _last_newline(file, size)
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


def _last_newline(file, size: int) -> int:
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


def column_of(block: RecordBlock, column: str, rows: int) -> np.ndarray:
    """A block's values of a column; NaN for a column the block lacks (as reindexing a frame
    gives: a metric no codec of that unit reported)."""
    return block[column] if column in block else np.full(rows, np.nan)


def metric_error_counts(records: pd.DataFrame, limit: int = 20) -> dict[str, int]:
    """The distinct ``metric_error`` notes of a run's records with their image counts (for the
    manifest); empty when every metric was measured."""
    if METRIC_ERROR not in records:
        return {}
    notes = records[METRIC_ERROR].astype(object).fillna("")
    counts = notes[notes != ""].value_counts(sort=False)
    return {str(note): int(count) for note, count in list(counts.items())[:limit]}

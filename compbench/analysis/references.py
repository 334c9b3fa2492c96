"""Published rate-quality curves read from files, to show and measure beside a run's own.

Two formats:

- CompressAI's results JSON (``compressai/results/image/<dataset>/*.json``)::

      {"name": "bmshj2018-factorized", "description": "Inference (ans)",
       "results": {"bpp": [0.12, ...], "psnr-rgb": [26.9, ...], "ms-ssim-rgb": [0.91, ...]}}

  ``psnr-rgb`` and ``psnr`` read as compbench's ``psnr``, ``ms-ssim-rgb`` and ``ms-ssim`` as
  ``ms_ssim``; timing lists (``encoding_time``, ``decoding_time``) are skipped; any other list
  is a quality metric under its own name (``-`` read as ``_``).
- a plain CSV with a header ``name,bpp,psnr[,ssim,ms_ssim,...]``: one row per point, one curve
  per name (a file may hold several).

A file that does not hold that is one CompbenchError naming the file, the field and what was
expected (exit code 2).
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..contracts.errors import CompbenchError

#: CompressAI's metric keys -> compbench's metric names
ALIASES = {"psnr-rgb": "psnr", "psnr": "psnr", "ms-ssim-rgb": "ms_ssim", "ms-ssim": "ms_ssim"}
#: compbench's metric names -> the keys CompressAI's plotting tool reads (export)
COMPRESSAI_KEYS = {"psnr": "psnr-rgb", "ms_ssim": "ms-ssim-rgb"}
#: lists of CompressAI results that are not quality metrics
SKIPPED = ("encoding_time", "decoding_time")
RATE = "bpp"
CSV_HELP = "a header name,bpp,psnr[,ssim,ms_ssim,...] and one row per point"
#: where a results folder keeps its reference curves (and their BD rows)
STORED, STORED_BD = "references.csv", "bdrate_references.csv"


@dataclass(frozen=True)
class ReferenceCurve:
    """One published curve: its points' rates (bpp) and qualities, in the file's order."""

    name: str
    #: the file it came from (as given)
    source: str
    description: str
    bpp: tuple[float, ...]
    #: metric name (compbench's) -> one value per point
    qualities: tuple[tuple[str, tuple[float, ...]], ...]

    @property
    def label(self) -> str:
        """How tables and legends name it."""
        return f"{self.name} (reference)"

    @property
    def metrics(self) -> list[str]:
        return [name for name, _ in self.qualities]

    def curve(self, quality: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(bpp, quality) arrays for BD and plots; None when the file has no such metric."""
        values = dict(self.qualities).get(quality)
        return None if values is None else (np.asarray(self.bpp, float), np.asarray(values, float))


def read_references(paths: Iterable[str | Path]) -> tuple[ReferenceCurve, ...]:
    """Every curve of every file, in order; two curves of one name are refused (their rows
    and legend entries could not be told apart)."""
    curves = [curve for path in paths for curve in read_reference_file(path)]
    seen: dict[str, str] = {}
    for curve in curves:
        if curve.name in seen:
            raise CompbenchError(f"{curve.source}: reference name {curve.name!r} is also in {seen[curve.name]}; "
                                 "give each curve its own name")
        seen[curve.name] = curve.source
    return tuple(curves)


def stored_references(folder: str | Path) -> tuple[ReferenceCurve, ...]:
    """The reference curves a results folder keeps (references.csv, written by a run given
    ``--reference`` or by ``compbench report --reference``); () when it keeps none."""
    path = Path(folder) / STORED
    return tuple(read_reference_file(path)) if path.is_file() else ()


def read_reference_file(path: str | Path) -> list[ReferenceCurve]:
    """The curves of one file: CompressAI JSON (``.json``) or CSV (anything else)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CompbenchError(f"reference file {path} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CompbenchError(f"reference file {path} cannot be read ({exc})") from None
    if path.suffix.lower() == ".json":
        return [_from_compressai(path, text)]
    return _from_csv(path, text)


def _from_compressai(path: Path, text: str) -> ReferenceCurve:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CompbenchError(f"{path}: not JSON ({exc.msg} at line {exc.lineno}); expected CompressAI's "
                             'results format {"name": ..., "results": {"bpp": [...], "psnr-rgb": [...]}}') from None
    if not isinstance(data, dict):
        raise _field_error(path, "(top level)", "an object with name and results", data)
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise _field_error(path, "name", "a non-empty string", name)
    description = data.get("description", "")
    results = data.get("results")
    if not isinstance(results, dict):
        raise _field_error(path, "results", 'an object of lists, e.g. {"bpp": [...], "psnr-rgb": [...]}', results)
    if RATE not in results:
        raise CompbenchError(f'{path}: field "results.bpp" is missing; expected a list of bits per pixel')
    bpp = _numbers(path, "results.bpp", results[RATE], positive=True)
    qualities = {}
    for key, values in results.items():
        if key == RATE or key in SKIPPED:
            continue
        metric = ALIASES.get(key, key.replace("-", "_"))
        qualities[metric] = _numbers(path, f"results.{key}", values, length=len(bpp))
    if not qualities:
        raise CompbenchError(f'{path}: field "results" has no quality list; expected "psnr-rgb", "ms-ssim-rgb" '
                             "or another metric beside bpp")
    return ReferenceCurve(name.strip(), str(path), str(description), bpp, tuple(qualities.items()))


def _numbers(path: Path, field: str, values, positive: bool = False, length: int | None = None) -> tuple[float, ...]:
    """A list of finite numbers (bools are not numbers), of ``length`` when given."""
    what = "a list of positive numbers" if positive else "a list of finite numbers"
    if not isinstance(values, list) or not values:
        raise _field_error(path, field, what, values)
    for i, value in enumerate(values):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (positive and value <= 0):
            raise _field_error(path, f"{field}[{i}]", what[len("a list of "):-1], value)
    if length is not None and len(values) != length:
        raise CompbenchError(f'{path}: field "{field}" has {len(values)} values; expected {length}, one per '
                             "bpp value")
    return tuple(float(v) for v in values)


def _field_error(path: Path, field: str, expected: str, got) -> CompbenchError:
    shown = json.dumps(got) if not isinstance(got, (dict, list)) else type(got).__name__.replace("dict", "object")
    return CompbenchError(f'{path}: field "{field}": expected {expected}, got {shown[:40]}')


def _from_csv(path: Path, text: str) -> list[ReferenceCurve]:
    rows = list(csv.reader(text.splitlines()))
    header = [cell.strip() for cell in rows[0]] if rows else []
    if header[:2] != ["name", RATE] or len(header) < 3 or len(set(header)) != len(header):
        raise CompbenchError(f"{path}: header {','.join(header) or '(empty file)'}: expected {CSV_HELP}")
    points: dict[str, list[tuple[int, list]]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise CompbenchError(f"{path}: line {line} has {len(row)} fields; expected {len(header)} ({CSV_HELP})")
        if not row[0].strip():
            raise CompbenchError(f'{path}: line {line}, column "name": expected the curve\'s name, got nothing')
        points.setdefault(row[0].strip(), []).append(
            (line, [_csv_number(path, line, column, cell) for column, cell in zip(header[1:], row[1:])]))
    if not points:
        raise CompbenchError(f"{path}: no points; expected {CSV_HELP}")
    metrics = [ALIASES.get(column, column.replace("-", "_")) for column in header[2:]]
    return [_csv_curve(path, name, lines, header[2:], metrics) for name, lines in points.items()]


def _csv_curve(path: Path, name: str, lines: list[tuple[int, list]], columns: list[str],
               metrics: list[str]) -> ReferenceCurve:
    """One name's rows; an empty cell is a metric the curve lacks, at every point or none."""
    qualities = []
    for i, (column, metric) in enumerate(zip(columns, metrics), start=1):
        values = [(line, v[i]) for line, v in lines]
        missing = [line for line, value in values if value is None]
        if len(missing) == len(values):
            continue
        if missing:
            raise CompbenchError(f'{path}: line {missing[0]}, column "{column}": expected a finite number, got '
                                 f"nothing (curve {name} gives {column} at other points)")
        qualities.append((metric, tuple(value for _, value in values)))
    if not qualities:
        raise CompbenchError(f"{path}: curve {name} has no quality value; expected {CSV_HELP}")
    return ReferenceCurve(name, str(path), "", tuple(v[0] for _, v in lines), tuple(qualities))


def _csv_number(path: Path, line: int, column: str, cell: str) -> float | None:
    """A cell's number; None for an empty quality cell (the rate is never empty)."""
    if not cell.strip() and column != RATE:
        return None
    try:
        value = float(cell)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or (column == RATE and value <= 0):
        expected = "a positive number" if column == RATE else "a finite number"
        raise CompbenchError(f'{path}: line {line}, column "{column}": expected {expected}, got {cell.strip()!r}')
    return value

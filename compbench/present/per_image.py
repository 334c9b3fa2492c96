"""Every image's values under every setting, gathered as records pass (a run's sink, or
records.csv read a chunk at a time) and packed small enough to travel inside report.html.

The default MNIST sweep has 310,000 records. Each setting becomes one gzip-compressed JSON
document of columns (``payload``), which the page unpacks with the browser's
DecompressionStream only when that setting's table is opened. The columns are as compact as
the tables that show them allow: every value rounded to the decimals of its declared format
(scaled to integers), a column equal to an earlier one stored as a reference (PSNR-Y of a gray
image is its PSNR), a column without any value left out, and the image list (id, class,
pixels) stored once for all settings.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..metrics import MetricSet
from .labels import scale, shown_format

#: per-record text kept besides the metrics
TEXT = ("error",)
#: gzip level: 6 packs the sweep's columns within 3% of 9 in half the time
GZIP_LEVEL = 6


class PerImage:
    """Per-image columns by setting, as the records hold them (float64: float32 would round a
    value at a shown digit's boundary the other way, 38.7045 to 38.704; 310,000 records of 14
    metrics take 35 MB)."""

    def __init__(self, metrics: Sequence[str]) -> None:
        self.metrics = tuple(dict.fromkeys(metrics))
        self._parts: dict[str, list[tuple[np.ndarray, dict[str, np.ndarray]]]] = {}
        self._settings_codec: dict[str, str] = {}

    def add(self, rows: Mapping[str, Iterable] | pd.DataFrame, order: np.ndarray | None = None) -> None:
        """Rows of one or more settings (a RecordBlock or a records frame); ``order`` puts each
        setting's rows in record order (default: as given)."""
        settings = np.asarray(rows["setting"], dtype=object)
        n = len(settings)
        order = np.arange(n) if order is None else np.asarray(order)
        columns = {name: _column(rows, name, n) for name in ("index", "class", "pixels", *TEXT, *self.metrics)}
        codecs = np.asarray(rows["codec"], dtype=object)
        for label in dict.fromkeys(settings.tolist()):
            picked = np.flatnonzero(settings == label)
            self._settings_codec.setdefault(label, str(codecs[picked[0]]))
            self._parts.setdefault(label, []).append(
                (order[picked], {name: values[picked] for name, values in columns.items()}))

    @property
    def settings(self) -> list[str]:
        return list(self._parts)

    def codec_of(self, setting: str) -> str:
        return self._settings_codec[setting]

    def columns(self, setting: str) -> dict[str, np.ndarray]:
        """One setting's rows in record order: index, class, pixels, error and the metrics."""
        parts = self._parts.get(setting, [])
        if not parts:
            return {name: np.array([]) for name in ("index", "class", "pixels", *TEXT, *self.metrics)}
        order = np.argsort(np.concatenate([o for o, _ in parts]), kind="stable")
        return {name: np.concatenate([p[name] for _, p in parts])[order] for name in parts[0][1]}

    def frame(self, setting: str) -> pd.DataFrame:
        return pd.DataFrame(self.columns(setting))

    def __len__(self) -> int:
        return sum(len(o) for parts in self._parts.values() for o, _ in parts)


def _column(rows, name: str, n: int) -> np.ndarray:
    if name not in rows:
        return np.full(n, "" if name in TEXT else np.nan, dtype=object if name in TEXT else np.float64)
    values = np.asarray(rows[name])
    if name in TEXT or name == "class":
        return values.astype(object)
    if name == "index":
        return values.astype(np.int64)
    return values.astype(np.float64)


# ---------------------------------------------------------------- packing for the page


def pack(table: PerImage, declared: MetricSet, names: Mapping[int, str] | None = None) -> dict:
    """The page's data: the image list once, and per setting a description of its columns
    (JSON) and their values (one gzip+base64 blob)."""
    frames = {setting: table.columns(setting) for setting in table.settings}
    images = _image_list(list(frames.values()), names or {})
    position = pd.Index(images["index"])
    return {"images": images,
            "settings": {setting: _pack_setting(frame, position, table.metrics, declared)
                         for setting, frame in frames.items()}}


def _image_list(frames: list[dict[str, np.ndarray]], names: Mapping[int, str]) -> dict:
    """Every image once, by id: its class (a number into ``classes``), pixels and name."""
    if not frames:
        return {"index": [], "classes": [], "class": [], "pixels": [], "name": None}
    every = pd.DataFrame({name: np.concatenate([frame[name] for frame in frames]) for name in ("index", "class", "pixels")})
    first = every.drop_duplicates("index").sort_values("index", kind="stable")
    codes, classes = pd.factorize(first["class"].astype(str), sort=False)
    index = first["index"].astype(np.int64).tolist()
    pixels = first["pixels"].to_numpy(dtype=float)
    return {"index": index, "classes": [str(c) for c in classes], "class": codes.tolist(),
            "pixels": [int(p) if np.isfinite(p) else None for p in pixels.tolist()],
            "name": [str(names.get(i, "")) for i in index] if names else None}


def _pack_setting(frame: Mapping[str, np.ndarray], position: pd.Index, metrics: Sequence[str], declared: MetricSet) -> dict:
    rows = position.get_indexer(np.asarray(frame["index"], dtype=np.int64))
    columns, planes = _columns(frame, metrics, declared)
    errors = np.asarray(frame["error"], dtype=object)
    failed = np.flatnonzero(errors != "")
    blob = gzip.compress(b"".join(planes), GZIP_LEVEL, mtime=0)  # mtime=0: the same bytes every time
    return {"rows": None if np.array_equal(rows, np.arange(len(rows))) else rows.tolist(), "count": len(rows),
            "columns": columns, "errors": {str(r): str(errors[r]) for r in failed.tolist()},
            "data": base64.b64encode(blob).decode("ascii")}


def _columns(frame: Mapping[str, np.ndarray], metrics: Sequence[str], declared: MetricSet) -> tuple[dict, list[bytes]]:
    """name -> where its values are in the blob, and the blob's parts.

    A value is shown value x ``scale`` as an integer, stored as ``value - offset`` in ``width``
    bytes, byte planes apart (all low bytes, then the next...: the high planes of small numbers
    are runs of zeros, which gzip packs to nothing). Rows that are missing, +inf or -inf are
    listed apart; a column equal to an earlier one is {"same": its name}; one without any value
    is left out."""
    described: dict[str, dict] = {}
    planes: list[bytes] = []
    seen: dict[bytes, str] = {}
    start = 0
    for name in metrics:
        values = np.asarray(frame[name], dtype=np.float64)
        if np.isnan(values).all():
            continue
        metric = declared.describe(name)
        factor = 10 ** _decimals(shown_format(metric))  # in the shown unit (ms for a timing)
        finite = np.isfinite(values)
        ints = np.where(finite, np.round(values * scale(metric) * factor), 0).astype(np.int64)
        key = ints.tobytes() + finite.tobytes() + np.signbit(values).tobytes()
        if key in seen:
            described[name] = {"same": seen[key]}
            continue
        seen[key] = name
        offset = int(ints[finite].min()) if finite.any() else 0
        width = _width(int(ints[finite].max()) - offset if finite.any() else 0)
        stored = np.where(finite, ints - offset, 0).astype(f"<u{width}")
        planes.append(stored.view(np.uint8).reshape(-1, width).T.tobytes())
        described[name] = {"scale": factor, "offset": offset, "width": width, "start": start,
                           **_special(np.isnan(values), "nan"), **_special(values == np.inf, "inf"),
                           **_special(values == -np.inf, "-inf")}
        start += len(planes[-1])
    return described, planes


def _width(span: int) -> int:
    """Bytes a value of 0..span takes: 1, 2 or 4 (a span past 4 bytes is a value past 2**32
    at its shown precision: none of compbench's metrics)."""
    for width in (1, 2, 4):
        if span < 256 ** width:
            return width
    return 8


def _special(where: np.ndarray, key: str) -> dict:
    rows = np.flatnonzero(where)
    return {key: rows.tolist()} if len(rows) else {}


def _decimals(fmt: str) -> int:
    """Digits after the point a format shows (".3f" -> 3; "g" and others: 6)."""
    match = re.search(r"\.(\d+)[f%]", fmt)
    return int(match.group(1)) + (2 if fmt.endswith("%") else 0) if match else 6


def worst(table: PerImage, settings: Mapping[str, str], metric: str, declared: MetricSet,
          count: int = 10) -> dict[str, pd.DataFrame]:
    """codec -> the ``count`` images of its setting in ``settings`` that are worst on
    ``metric`` (by its declared direction), failed images first."""
    lower_is_worse = declared.describe(metric).better != "lower"
    found = {}
    for codec, setting in settings.items():
        frame = table.frame(setting)
        if frame.empty or metric not in frame:
            continue
        failed = frame["error"] != ""
        key = frame[metric].astype(float) * (1 if lower_is_worse else -1)
        order = np.lexsort((key.fillna(np.inf).to_numpy(), ~failed.to_numpy()))
        found[codec] = frame.iloc[order[:count]].reset_index(drop=True)
    return found

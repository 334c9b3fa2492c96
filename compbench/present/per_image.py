"""Every image's values under every setting, gathered as records pass (a run's sink, or
records.csv read a chunk at a time) and packed small enough to travel inside report.html.

The default MNIST sweep has 310,000 records. A setting's rows are held only until the setting
is complete (:meth:`PerImage.settle`, called where the summary settles it), then packed and let
go, so memory holds the packed settings (about 180 kB per 10,000 images) and the settings in
flight, never all the records. Packed, a setting is one gzip blob of byte planes that the page
unpacks with the browser's DecompressionStream only when its table is opened. The values are as
compact as the tables that show them allow: each rounded to the decimals of its declared format
(scaled to integers), a column equal to an earlier one stored as a reference (PSNR-Y of a gray
image is its PSNR), a column without any value left out, and each image's class and pixels
stored once for all settings.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from ..metrics import CORE, MetricSet
from .labels import scale, shown_format

#: per-record text kept besides the metrics
TEXT = ("error",)
#: gzip level: 6 packs the sweep's planes within a few % of 9, in half the time
GZIP_LEVEL = 6
#: the worst images kept per setting (the report lists them for the matched settings)
WORST_COUNT = 10


class PerImage:
    """Per-image values by setting: held while a setting is open, packed once it is settled."""

    def __init__(self, metrics: Sequence[str], declared: MetricSet | None = None, worst_metric: str = "psnr") -> None:
        self.metrics = tuple(dict.fromkeys(metrics))
        self.declared = declared or CORE
        self.worst_metric = worst_metric
        self._open: dict[str, list[tuple[np.ndarray, dict[str, np.ndarray]]]] = {}
        self._packed: dict[str, dict] = {}
        self._worst: dict[str, pd.DataFrame] = {}
        self._codec: dict[str, str] = {}
        self._images: dict[str, np.ndarray] = {}  # "index", "class", "pixels" of every image seen
        self._rows = 0

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
            if label in self._packed:
                raise ValueError(f"records of setting {label!r} came after it was settled")
            self._codec.setdefault(label, str(codecs[picked[0]]))
            self._open.setdefault(label, []).append(
                (order[picked], {name: values[picked] for name, values in columns.items()}))
        self._rows += n

    def settle(self, label: str) -> None:
        """Pack a complete setting and let its rows go."""
        parts = self._open.pop(label, None)
        if not parts:
            return
        order = np.argsort(np.concatenate([o for o, _ in parts]), kind="stable")
        columns = {name: np.concatenate([p[name] for _, p in parts])[order] for name in parts[0][1]}
        self._note_images(columns)
        self._packed[label] = _pack_setting(columns, self.metrics, self.declared)
        self._worst[label] = _worst_rows(columns, self.worst_metric, self.declared)

    def settle_all(self, keep: str | None = None) -> None:
        """Settle every open setting (but ``keep``: one a chunked read may not have finished)."""
        for label in [label for label in self._open if label != keep]:
            self.settle(label)

    def _note_images(self, columns: Mapping[str, np.ndarray]) -> None:
        seen = self._images.get("index", np.array([], dtype=np.int64))
        new = ~np.isin(columns["index"], seen)
        if new.any():
            for name in ("index", "class", "pixels"):
                self._images[name] = np.concatenate([self._images.get(name, columns[name][:0]), columns[name][new]])

    @property
    def settings(self) -> list[str]:
        return [*self._packed, *(label for label in self._open if label not in self._packed)]

    def codec_of(self, setting: str) -> str:
        return self._codec[setting]

    def __len__(self) -> int:
        return self._rows

    def worst(self, settings: Mapping[str, str]) -> dict[str, pd.DataFrame]:
        """codec -> the worst images of its setting in ``settings`` (on ``worst_metric``)."""
        self.settle_all()
        return {codec: self._worst[setting] for codec, setting in settings.items() if setting in self._worst}

    def packed(self, names: Mapping[int, str] | None = None) -> dict:
        """The page's data: every image once (id, class, pixels, name), and per setting the
        description of its columns and their values (one gzip+base64 blob)."""
        self.settle_all()
        return {"images": self._image_list(names or {}), "settings": dict(self._packed)}

    def _image_list(self, names: Mapping[int, str]) -> dict:
        if not self._images:
            return {"index": [], "classes": [], "class": [], "pixels": [], "name": None}
        order = np.argsort(self._images["index"], kind="stable")
        index = self._images["index"][order].astype(np.int64).tolist()
        codes, classes = pd.factorize(pd.Series(self._images["class"][order]).astype(str), sort=False)
        pixels = self._images["pixels"][order].astype(float).tolist()
        return {"index": index, "classes": [str(c) for c in classes], "class": codes.tolist(),
                "pixels": [int(p) if np.isfinite(p) else None for p in pixels],
                "name": [str(names.get(i, "")) for i in index] if names else None}


def _column(rows, name: str, n: int) -> np.ndarray:
    if name not in rows:
        return np.full(n, "" if name in TEXT else np.nan, dtype=object if name in TEXT else np.float64)
    values = np.asarray(rows[name])
    if name in TEXT or name == "class":
        return values.astype(object)
    # float64: float32 would round a value at a shown digit's boundary the other way
    return values.astype(np.int64 if name == "index" else np.float64)


def _pack_setting(columns: Mapping[str, np.ndarray], metrics: Sequence[str], declared: MetricSet) -> dict:
    ids = np.asarray(columns["index"], dtype=np.int64)
    described, planes = _columns(columns, metrics, declared)
    plane, offset, width = _planes(ids)
    errors = np.asarray(columns["error"], dtype=object)
    failed = np.flatnonzero(errors != "")
    blob = gzip.compress(plane + b"".join(planes), GZIP_LEVEL, mtime=0)  # mtime=0: the same bytes every time
    start = len(plane)
    for column in described.values():
        if "start" in column:
            column["start"] += start
    return {"count": len(ids), "ids": {"offset": offset, "width": width, "start": 0},
            "columns": described, "errors": {str(r): str(errors[r]) for r in failed.tolist()},
            "data": base64.b64encode(blob).decode("ascii")}


def _planes(ints: np.ndarray) -> tuple[bytes, int, int]:
    """Integers as ``value - offset`` in the fewest bytes (1, 2, 4 or 8), byte planes apart:
    all low bytes, then the next... (the high planes of small numbers are runs of zeros, which
    gzip packs to nothing)."""
    offset = int(ints.min()) if len(ints) else 0
    span = int(ints.max()) - offset if len(ints) else 0
    width = next(w for w in (1, 2, 4, 8) if span < 256 ** w)
    stored = (ints - offset).astype(f"<u{width}")
    return stored.view(np.uint8).reshape(-1, width).T.tobytes(), offset, width


def _columns(frame: Mapping[str, np.ndarray], metrics: Sequence[str], declared: MetricSet) -> tuple[dict, list[bytes]]:
    """name -> where its values are in the blob, and the blob's parts. A value is the shown
    value x ``scale`` as an integer (:func:`_planes`); rows that are missing, +inf or -inf are
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
        plane, offset, width = _planes(np.where(finite, ints, int(ints[finite].min()) if finite.any() else 0))
        planes.append(plane)
        described[name] = {"scale": factor, "offset": offset, "width": width, "start": start,
                           # whole numbers (bytes) are shown without decimals
                           **({"integer": True} if np.array_equal(values[finite], np.round(values[finite])) else {}),
                           **_special(np.isnan(values), "nan"), **_special(values == np.inf, "inf"),
                           **_special(values == -np.inf, "-inf")}
        start += len(plane)
    return described, planes


def _special(where: np.ndarray, key: str) -> dict:
    rows = np.flatnonzero(where)
    return {key: rows.tolist()} if len(rows) else {}


def _decimals(fmt: str) -> int:
    """Digits after the point a format shows (".3f" -> 3; "g" and others: 6)."""
    match = re.search(r"\.(\d+)[f%]", fmt)
    return int(match.group(1)) + (2 if fmt.endswith("%") else 0) if match else 6


def _worst_rows(columns: Mapping[str, np.ndarray], metric: str, declared: MetricSet) -> pd.DataFrame:
    """The setting's ``WORST_COUNT`` worst images on ``metric`` (by its declared direction),
    failed images first."""
    frame = pd.DataFrame(columns)
    if metric not in frame:
        return frame.iloc[:0]
    failed = (frame["error"] != "").to_numpy()
    sign = -1.0 if declared.describe(metric).better == "lower" else 1.0
    key = np.nan_to_num(frame[metric].to_numpy(dtype=float) * sign, nan=np.inf)
    order = np.lexsort((key, ~failed))
    return frame.iloc[order[:WORST_COUNT]].reset_index(drop=True)

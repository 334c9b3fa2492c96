"""Summaries: per class and over all images, mean, std and count of every metric, pooled bpp
and PSNR, failures and lossless images. How each metric aggregates comes from its declaration
(:mod:`compbench.metrics`).

A run builds its summary as its records arrive, a unit at a time and in any order (nothing it
wrote is read back): each setting's rows are kept as numbers only until the setting is
complete, then summarized in record order and let go, so a summary never holds more than the
settings in flight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..metrics import CORE, MetricSet
from .schema import INFO_COLUMNS, KEY_COLUMNS

ALL = "all"
GROUP_KEYS = ["codec", "setting", "dataset", "split"]
#: columns every summary row needs besides the aggregated metrics
_ALWAYS = ("mse", "bytes")


@dataclass
class _Setting:
    """One setting's rows so far: its keys, and its columns as parts in arrival order with the
    order they take in records.csv (``order``: position, or row number in a file)."""

    keys: dict
    parts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=list)
    rows: int = 0


class SummaryBuilder:
    """Summary rows of records given a part at a time (:meth:`add`); a setting is summarized
    when :meth:`settle` is called for it (or at :meth:`frame`)."""

    def __init__(self, class_names: Sequence[str], metrics: MetricSet | None = None) -> None:
        self.class_names = tuple(str(name) for name in class_names)
        self.metrics = metrics or CORE
        self._open: dict[str, _Setting] = {}
        self._rows: dict[str, list[dict]] = {}  # settled settings' summary rows, in first-seen order
        self._order: list[str] = []
        #: undeclared numeric columns (a codec's undeclared extra, an old plugin's column) seen
        #: with a value somewhere: aggregated like declared ones
        self._extras: dict[str, bool] = {}

    def add(self, records: pd.DataFrame | Mapping[str, np.ndarray], order: np.ndarray | None = None) -> None:
        """Rows of one or more settings; ``order`` sorts each setting's rows into record order
        (default: as given)."""
        columns = _columns_of(records)
        settings = np.asarray(columns["setting"], dtype=object)
        n = len(settings)
        order = np.arange(n) if order is None else np.asarray(order)
        self._note_extras(columns)
        starts = [0, *(np.flatnonzero(settings[1:] != settings[:-1]) + 1).tolist(), n]
        for start, end in zip(starts[:-1], starts[1:]):
            if end > start:
                self._add_run(columns, start, end, order)

    def _add_run(self, columns: Mapping[str, np.ndarray], start: int, end: int, order: np.ndarray) -> None:
        label = str(columns["setting"][start])
        setting = self._open.get(label)
        if setting is None:
            if label in self._rows:
                raise ValueError(f"records of setting {label!r} came after it was summarized")
            setting = self._open[label] = _Setting({k: columns[k][start] for k in GROUP_KEYS})
            self._order.append(label)
        wanted = self._wanted(columns)
        setting.parts.append((order[start:end], {name: columns[name][start:end] for name in wanted}))
        setting.rows += end - start

    def _wanted(self, columns: Mapping[str, np.ndarray]) -> list[str]:
        names = ["error", "class", "pixels", *_ALWAYS, *self.metrics.aggregated(), *self._extras]
        return [name for name in dict.fromkeys(names) if name in columns]

    def _note_extras(self, columns: Mapping[str, np.ndarray]) -> None:
        known = set(KEY_COLUMNS + INFO_COLUMNS) | set(self.metrics.names)
        for name, values in columns.items():
            if name not in known and np.asarray(values).dtype.kind in "fiub":
                present = bool((~np.isnan(np.asarray(values, dtype=float))).any())
                self._extras[name] = self._extras.get(name, False) or present

    def rows_of(self, label: str) -> int:
        """Rows given so far for a setting that is not settled."""
        setting = self._open.get(label)
        return setting.rows if setting else 0

    def settle(self, label: str) -> None:
        """Summarize a setting's rows and let them go."""
        setting = self._open.pop(label, None)
        if setting is None:
            return
        orders = np.concatenate([order for order, _ in setting.parts])
        sort = np.argsort(orders, kind="stable")
        names = setting.parts[0][1].keys()
        table = {name: np.concatenate([part[name] for _, part in setting.parts])[sort] for name in names}
        setting.parts.clear()
        self._rows[label] = _setting_rows(setting.keys, table, self._aggregated(table), self.class_names,
                                         self.metrics)

    def _aggregated(self, table: Mapping[str, np.ndarray]) -> list[str]:
        declared = [name for name in self.metrics.aggregated() if name in table]
        return declared + [name for name in self._extras if name in table and name not in declared]

    def frame(self, order: Sequence[str] = ()) -> pd.DataFrame:
        """The summary: every setting settled, those named in ``order`` first (a run's settings
        in its order), then the others in the order they first came."""
        for label in list(self._open):
            self.settle(label)
        self._order = [*(label for label in order if label in self._rows),
                       *(label for label in self._order if label not in set(order))]
        aggregated = [name for name in self.metrics.aggregated()
                      if any(f"{name}_mean" in rows[0] for rows in self._rows.values())]
        aggregated += [name for name, present in self._extras.items() if present]
        order = [*GROUP_KEYS, "class", "count", "errors", "lossless",
                 *(f"{name}_{stat}" for name in aggregated for stat in ("mean", "std")), "bpp_pooled", "psnr_pooled"]
        rows = [row for label in self._order for row in self._rows[label]]
        summary = pd.DataFrame(rows, columns=order if rows else None)
        # tables and charts read how to show each metric from here (plain JSON, as in manifest.json)
        summary.attrs["metrics"] = self.metrics.declarations()
        return summary


def _columns_of(records: pd.DataFrame | Mapping[str, np.ndarray]) -> Mapping[str, np.ndarray]:
    if isinstance(records, pd.DataFrame):
        return {name: records[name].to_numpy() for name in records.columns}
    return records


def _setting_rows(keys: dict, table: Mapping[str, np.ndarray], columns: list[str], class_names: tuple[str, ...],
                  metrics: MetricSet) -> list[dict]:
    """The summary rows of one setting: each class (in the dataset's class order, then classes
    it does not name, as they first appear), then all images."""
    values = {name: np.asarray(table[name], dtype=float) for name in {*columns, *_ALWAYS} if name in table}
    failed = np.asarray(table["error"], dtype=object) != ""
    pixels = np.asarray(table["pixels"])
    classes = pd.Series(np.asarray(table["class"], dtype=object)).astype(str)
    groups = classes.groupby(classes, sort=False).indices
    rank = {name: i for i, name in enumerate(class_names)}
    ordered = sorted(groups.items(), key=lambda item: (rank.get(item[0], len(rank)), item[1][0]))
    rows = []
    for class_name, members in [*ordered, (ALL, np.arange(len(classes)))]:
        rows.append({**{k: str(v) for k, v in keys.items()}, "class": class_name,
                     **_aggregate(values, failed, pixels, members, columns, metrics)})
    return rows


def _aggregate(values: Mapping[str, np.ndarray], failed: np.ndarray, pixels: np.ndarray, members: np.ndarray,
               columns: list[str], metrics: MetricSet) -> dict:
    """The summary row of the records at ``members`` (row numbers, in record order)."""
    measured = members[~failed[members]]  # the images that did not fail
    mse = values["mse"][measured]
    row = {"count": len(measured), "errors": len(members) - len(measured), "lossless": int((mse == 0).sum())}
    for name in columns:
        chosen = values[name][measured]
        chosen = chosen[~np.isnan(chosen)]
        if metrics.describe(name).infinite_when_lossless and np.isinf(chosen).any() and not np.isinf(chosen).all():
            # one lossless image would make the mean inf: average the lossy ones and count the
            # lossless ones in "lossless" (psnr_pooled covers all images)
            chosen = chosen[np.isfinite(chosen)]
        row[f"{name}_mean"] = float(np.mean(chosen)) if len(chosen) else np.nan
        row[f"{name}_std"] = float(np.std(chosen)) if len(chosen) > 1 and np.isfinite(chosen).all() else np.nan
    total_pixels = pixels[measured].sum()
    row["bpp_pooled"] = float(8 * np.nansum(values["bytes"][measured]) / total_pixels) if total_pixels else np.nan
    # PSNR of the pooled squared error: defined with lossless images in the set
    counted = int((~np.isnan(mse)).sum())  # NaN left out as pandas' mean does, summed the same way
    mean_mse = np.nansum(mse) / counted if counted else np.nan
    row["psnr_pooled"] = float(10 * np.log10(255**2 / mean_mse)) if mean_mse > 0 else (np.inf if mean_mse == 0 else np.nan)
    return row


def summarize(records: pd.DataFrame, class_names: Sequence[str], metrics: MetricSet | None = None) -> pd.DataFrame:
    """Per (codec, setting, class) and over all images: mean, std and count of each metric,
    the number of failed images, and the pooled bpp (total bits / total pixels), of records
    given all at once (a frame in memory; a run builds its summary with :class:`SummaryBuilder`)."""
    builder = SummaryBuilder(class_names, metrics)
    if len(records):
        builder.add(records)
    return builder.frame()

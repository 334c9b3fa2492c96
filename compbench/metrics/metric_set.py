"""The ordered set of metrics a run measures (core + plugin metrics + the metrics its codecs
declare), and the one batch computation of those compbench computes (a codec reports its own).

Every part that shows, stores, compares, plots or gates a metric reads its :class:`Metric`
declaration from here: records and summary columns, table formats, "lossless", RD-plot axes,
the regression gate's direction, gating and timing tolerance. A stored run carries its
declarations in manifest.json (:meth:`MetricSet.declarations`), so it is read back with them
(:meth:`MetricSet.stored`) even where a plugin that measured it is not installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..contracts.errors import CompbenchError, PluginError, did_you_mean
from .core import CORE_METRICS, CORE_NAMES, OPTIONAL_METRICS, SUMMARY_STATS
from .declaration import PER_IMAGE_ONLY, Metric
from .measure import image_metrics


class Declarations(dict):
    """:meth:`MetricSet.declarations`: plain JSON, as manifest.json and a summary's ``attrs``
    hold them, and never changed once made, so a deep copy is the same object (pandas
    deep-copies a frame's ``attrs`` on every selection: seconds over a sweep's tables)."""

    def __deepcopy__(self, memo) -> Declarations:
        return self


class MetricSet:
    """An ordered set of metric declarations, with the one batch computation of those compbench
    computes (core and plugin metrics; a codec's own extras are the run's to take)."""

    def __init__(self, metrics: Iterable[Metric] = CORE_METRICS) -> None:
        self._metrics: dict[str, Metric] = {}
        for metric in metrics:
            self._metrics.setdefault(metric.name, metric)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def for_run(cls, registry=None, factories: Iterable = (), extra: Iterable[str] = ()) -> MetricSet:
        """Core metrics, then every registered plugin metric, then the metrics declared by these
        codec factories (``CodecFactory.metrics``). Two codecs may declare the same name (the
        first declaration is kept); a codec may not take a core or plugin metric's name.
        An ``optional`` metric (core or plugin) is measured only when ``extra`` names it."""
        plugin = {} if registry is None else dict(registry.metrics)
        offered = list(OPTIONAL_METRICS) + [registered.obj for registered in plugin.values()]
        extra = tuple(dict.fromkeys(extra))
        known = {m.name for m in offered if m.optional}
        unknown = [name for name in extra if name not in known]
        if unknown:
            raise CompbenchError(f"--metrics-extra {', '.join(unknown)}: not an optional metric"
                                 f"{did_you_mean(unknown[0], known)}valid: {', '.join(sorted(known)) or '(none installed)'}")
        metrics = list(CORE_METRICS)
        metrics += [m for m in offered if not m.optional or m.name in extra]
        for factory in factories:
            for metric in check_codec_metrics(factory):
                if metric.name in plugin:
                    other = plugin[metric.name].provenance
                    raise PluginError(f"codec {factory.name!r} declares metric {metric.name!r}, which "
                                      f"plugin {other.plugin!r} ({other.distribution}) registers too; "
                                      "rename one of them")
                metrics.append(metric)
        return cls(metrics)

    @classmethod
    def stored(cls, manifest: dict | None) -> MetricSet:
        """The declarations of a stored run: its manifest's "metrics", or the core ones for a
        folder written before runs recorded them."""
        declared = (manifest or {}).get("metrics")
        if not isinstance(declared, dict) or not declared:
            return cls()
        metrics = []
        for name, data in declared.items():
            try:
                metrics.append(Metric.from_declaration({**data, "name": name}))
            except (TypeError, ValueError):  # a damaged entry: fall back to what core knows
                continue
        return cls(metrics + list(CORE_METRICS))

    def merged(self, other: MetricSet) -> MetricSet:
        """This set, then the metrics only ``other`` declares."""
        return MetricSet(list(self) + list(other))

    # -- reading ----------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Metric]:
        return iter(self._metrics.values())

    def __contains__(self, name: str) -> bool:
        return name in self._metrics

    def __len__(self) -> int:
        return len(self._metrics)

    def __getitem__(self, name: str) -> Metric:
        return self._metrics[name]

    @property
    def names(self) -> list[str]:
        return list(self._metrics)

    def describe(self, name: str) -> Metric:
        """The declaration of any metric or summary number; an undeclared one (a codec's extra
        that was never declared, an old plugin's column) is informational: no direction."""
        if name in self._metrics:
            return self._metrics[name]
        for metric in SUMMARY_STATS + CORE_METRICS:
            if metric.name == name:
                return metric
        return Metric(name, name, gated=False)

    def aggregated(self) -> list[str]:
        """Metrics the summary aggregates (mean, std), in order."""
        return [m.name for m in self if m.aggregate != PER_IMAGE_ONLY]

    def table_metrics(self) -> list[str]:
        return [m.name for m in self if m.table and m.aggregate != PER_IMAGE_ONLY]

    def quality_axes(self) -> list[str]:
        return [m.name for m in self if m.quality_axis]

    def declarations(self) -> Declarations:
        """For manifest.json: name -> the declaration without ``compute``."""
        return Declarations({m.name: {k: v for k, v in m.declaration().items() if k != "name"} for m in self})

    def check_rd_metrics(self, names: Iterable[str]) -> tuple[str, ...]:
        """RD-plot y-axes as asked for (``--rd-metrics``); each must be a declared quality axis."""
        names = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
        valid = self.quality_axes()
        wrong = [n for n in names if n not in valid]
        if wrong or not names:
            raise CompbenchError(f"--rd-metrics {','.join(wrong) or '(empty)'}: not a quality metric of this "
                                 f"run{did_you_mean(wrong[0], valid) if wrong else '; '}valid: {', '.join(valid)}")
        return names

    # -- measuring --------------------------------------------------------------------------

    def empty_columns(self, n: int) -> dict[str, np.ndarray]:
        """One NaN column of ``n`` values per metric, in order."""
        return {name: np.full(n, np.nan) for name in self._metrics}

    def measure(self, originals, reconstructions, nbytes, overhead,
                notes: list[str] | None = None) -> dict[str, np.ndarray]:
        """Every metric of the set on a batch of same-shape images: name -> N floats.

        The core pixel metrics come from one fused pass (:func:`image_metrics`); each metric with
        a ``compute`` (MS-SSIM, plugin metrics) follows. One of those that raises or returns the
        wrong number of values gives NaN for this batch and a line in ``notes``: a metric never
        costs the run. Timings and a codec's own extras are the runner's (:mod:`compbench.run.worker`).
        """
        values = image_metrics(originals, reconstructions, nbytes, overhead)
        n = len(originals)
        for metric in self:
            if metric.compute is not None:
                values[metric.name] = guarded_column(
                    metric.name, lambda m=metric: m.compute(originals, reconstructions), n, notes)
        return values


#: the core metrics alone: what a run without plugin or codec metrics measures
CORE = MetricSet()


def check_codec_metrics(factory) -> tuple[Metric, ...]:
    """A factory's declared metrics, checked: Metric instances that take no core name."""
    metrics = tuple(getattr(factory, "metrics", ()) or ())
    for metric in metrics:
        if not isinstance(metric, Metric):
            raise PluginError(f"codec {factory.name!r} declares {metric!r} in its metrics, which is not "
                              "a compbench.Metric; declare Metric instances")
        if metric.name in CORE_NAMES:
            raise PluginError(f"codec {factory.name!r} declares metric {metric.name!r}, a name of "
                              "compbench's core metrics; rename the codec's metric")
    return metrics


def guarded_column(name: str, compute, n: int, notes: list[str] | None) -> np.ndarray:
    """``compute()`` as N floats; NaN and a line in ``notes`` if it raises or gives another
    shape: one metric that fails never costs the others."""
    try:
        column = np.asarray(compute(), dtype=np.float64)
        if column.shape != (n,):
            raise ValueError(f"returned shape {column.shape}, expected ({n},): one value per image")
        return column
    except Exception as exc:
        add_note(notes, name, exc)
        return np.full(n, np.nan)


def add_note(notes: list[str] | None, name: str, problem) -> None:
    """Add "name: problem" to ``notes`` (unless None); an exception as its type and first line."""
    if notes is None:
        return
    if isinstance(problem, BaseException):
        text = str(problem).strip().splitlines()
        problem = f"{type(problem).__name__}: {text[0] if text else ''}".rstrip(": ")
    notes.append(f"{name}: {problem}")

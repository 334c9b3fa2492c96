"""The metric registry of a run: the core declarations, and the ordered set of metrics a run
measures (core + plugin metrics + the metrics its codecs declare).

Every part that shows, stores, compares, plots or gates a metric reads its :class:`Metric`
declaration from here: records and summary columns, table formats, "lossless", RD-plot axes,
the regression gate's direction, gating and timing tolerance. A stored run carries its
declarations in manifest.json (:meth:`MetricSet.declarations`), so it is read back with them
(:meth:`MetricSet.stored`) even where a plugin that measured it is not installed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from ..contracts.errors import CompbenchError, PluginError
from ..contracts.metric import HIGHER, LOWER, NO_DIRECTION, PER_IMAGE_ONLY, Metric
from .measure import MS_SSIM_MIN_SIDE, image_metrics, ms_ssim

_PSNR_LIKE = dict(better=HIGHER, infinite_when_lossless=True, quality_axis=True)

#: the harness's own per-image metrics, in column order
CORE_METRICS: tuple[Metric, ...] = (
    Metric("bytes", "bytes", "bytes", LOWER, table=False,
           description="length of the bitstream the decoder turned back into the image"),
    Metric("bpp", "bpp", "bits/pixel", LOWER, rate_axis=True, axis="rate (bits per pixel, whole file)",
           description="8 x bytes / pixels (H x W), headers included: the honest rate"),
    Metric("bpp_payload", "bpp payload", "bits/pixel", LOWER, rate_axis=True, table=False,
           axis="rate (bits per pixel, header excluded)",
           description="8 x (bytes - overhead) / pixels, without the header a container could share"),
    Metric("mse", "MSE", "", LOWER, table=False,
           description="mean squared error over all samples (all channels)"),
    Metric("psnr", "PSNR", "dB", **_PSNR_LIKE,
           description="10 log10(255^2 / mse) over all channels, as CompressAI reports it; "
                       "lossless when mse = 0"),
    Metric("psnr_y", "PSNR-Y", "dB", **_PSNR_LIKE, table=False,
           description="PSNR of the BT.601 luma Y = 0.299 R + 0.587 G + 0.114 B (full range, "
                       "unrounded); equals psnr on gray images"),
    Metric("psnr_ycbcr", "PSNR-YCbCr", "dB", **_PSNR_LIKE, table=False,
           description="(6 PSNR-Y + PSNR-Cb + PSNR-Cr) / 8, full-range BT.601 YCbCr "
                       "(Cb = 128 + (B - Y) / 1.772, Cr = 128 + (R - Y) / 1.402); a component "
                       "with no error is left out and the weights renormalised; equals psnr on "
                       "gray images"),
    Metric("snr_db", "SNR dB", "dB", **{**_PSNR_LIKE, "quality_axis": False}, axis="SNR (dB)",
           description="10 log10(sum x^2 / sum (x - y)^2), the signal-to-noise ratio of the coding"),
    Metric("ssim", "SSIM", "", HIGHER, fmt=".4f", quality_axis=True,
           description="scikit-image structural_similarity, data range 255, 7x7 uniform window, "
                       "on the BT.601 luma of colour images; NaN below 7x7"),
    Metric("ms_ssim", "MS-SSIM", "", HIGHER, fmt=".4f", quality_axis=True, table=False, compute=ms_ssim,
           description="MS-SSIM as pytorch-msssim computes it (11-tap Gaussian, sigma 1.5, 5 scales, "
                       "data range 255), per channel and averaged for colour, as CompressAI reports it; NaN "
                       f"for images under {MS_SSIM_MIN_SIDE} pixels on the shorter side, where "
                       "the five scales do not fit"),
    Metric("entropy", "entropy", "bits", NO_DIRECTION,
           description="Shannon entropy of the 256-bin histogram of the reconstruction: the "
                       "paper's Fig. 8, a property of the decoded image, not a rate"),
    Metric("snr_paper", "snr_paper", "", NO_DIRECTION, axis="mean / std",
           description="mean(y) / std(y): the paper's Fig. 10 'SNR' (legacy "
                       "scipy.stats.signaltonoise), not an SNR of the coding"),
    Metric("encode_s", "encode", "s", LOWER, timing=True, table=False, fmt=".6f",
           description="encode wall time per image (batch time / batch size)"),
    Metric("decode_s", "decode", "s", LOWER, timing=True, table=False, fmt=".6f",
           description="decode wall time per image (batch time / batch size)"),
)
#: whole-row numbers of a summary (not per image), with the same kind of declaration
SUMMARY_STATS: tuple[Metric, ...] = (
    Metric("errors", "errors", "images", LOWER, fmt=".0f", table=False,
           description="images whose encode or decode failed"),
    Metric("lossless", "lossless", "images", NO_DIRECTION, fmt=".0f", table=False, gated=False,
           description="images reconstructed exactly (mse = 0)"),
    Metric("bpp_pooled", "bpp pooled", "bits/pixel", LOWER, rate_axis=True, table=False,
           axis="rate (bits per pixel, pooled)", description="total bits / total pixels"),
    Metric("psnr_pooled", "PSNR pooled", "dB", HIGHER, infinite_when_lossless=True, table=False,
           description="PSNR of the mean squared error over all images (defined with lossless ones)"),
)
CORE_NAMES = frozenset(m.name for m in CORE_METRICS + SUMMARY_STATS)
TIMING_NAMES = tuple(m.name for m in CORE_METRICS if m.timing)
#: per-image text column: why a metric is NaN for an image (a plugin metric that raised)
METRIC_ERROR = "metric_error"
#: the quality axes drawn by default (as before the registry): y of the RD plots and BD tables
DEFAULT_RD_METRICS = ("psnr", "ssim")


class Declarations(dict):
    """:meth:`MetricSet.declarations`: plain JSON, as manifest.json and a summary's ``attrs``
    hold them, and never changed once made, so a deep copy is the same object (pandas
    deep-copies a frame's ``attrs`` on every selection: seconds over a sweep's tables)."""

    def __deepcopy__(self, memo) -> Declarations:
        return self


class MetricSet:
    """An ordered set of metric declarations, with the one batch computation of all of them."""

    def __init__(self, metrics: Iterable[Metric] = CORE_METRICS) -> None:
        self._metrics: dict[str, Metric] = {}
        for metric in metrics:
            self._metrics.setdefault(metric.name, metric)

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def for_run(cls, registry=None, factories: Iterable = ()) -> MetricSet:
        """Core metrics, then every registered plugin metric, then the metrics declared by these
        codec factories (``CodecFactory.metrics``). Two codecs may declare the same name (the
        first declaration is kept); a codec may not take a core or plugin metric's name."""
        metrics = list(CORE_METRICS)
        plugin = {} if registry is None else dict(registry.metrics)
        metrics += [registered.obj for registered in plugin.values()]
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
            raise CompbenchError(f"--rd-metrics {','.join(wrong) or '(empty)'}: not a quality metric "
                                 f"of this run; valid: {', '.join(valid)}")
        return names

    # -- measuring --------------------------------------------------------------------------

    def empty_columns(self, n: int) -> dict[str, np.ndarray]:
        """One NaN column of ``n`` values per metric, in order."""
        return {name: np.full(n, np.nan) for name in self._metrics}

    def measure(self, originals, reconstructions, nbytes, overhead, codec=None,
                notes: list[str] | None = None, declared_extras=None,
                ignored: list[str] | None = None) -> dict[str, np.ndarray]:
        """Every metric of a batch of same-shape images: name -> N floats.

        The core pixel metrics come from one fused pass (:func:`image_metrics`); each metric with
        a ``compute`` (MS-SSIM, plugin metrics) and the codec's ``extra_metrics`` follow. One of
        those that raises or returns the wrong number of values gives NaN for this batch and a
        line in ``notes``: a metric never costs the run. Timings are the runner's.
        """
        values = image_metrics(originals, reconstructions, nbytes, overhead)
        n = len(originals)
        for metric in self:
            if metric.compute is not None:
                values[metric.name] = _guarded(metric.name, lambda m=metric: m.compute(originals, reconstructions),
                                               n, notes)
        if codec is not None:
            try:
                extras = dict(codec.extra_metrics(originals))
            except Exception as exc:  # optional extras must not cost the real metrics
                extras = {}
                _note(notes, "codec extra metrics", exc)
            for name, column in extras.items():
                # the codec's own misreporting costs no value: dropped, and said (``ignored``)
                if name in CORE_NAMES or (name in self and self[name].compute is not None):
                    _note(ignored, name, f"the codec reported a metric named like one compbench "
                                         f"or a plugin computes ({name!r}); ignored")
                    continue
                if declared_extras is not None and name not in declared_extras:
                    _note(ignored, name, "the codec reported a metric it does not declare "
                                         "(CodecFactory.metrics); ignored")
                    continue
                values[name] = _guarded(name, lambda c=column: c, n, notes)
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


def _guarded(name: str, compute, n: int, notes: list[str] | None) -> np.ndarray:
    try:
        column = np.asarray(compute(), dtype=np.float64)
        if column.shape != (n,):
            raise ValueError(f"returned shape {column.shape}, expected ({n},): one value per image")
        return column
    except Exception as exc:
        _note(notes, name, exc)
        return np.full(n, np.nan)


def _note(notes: list[str] | None, name: str, problem) -> None:
    if notes is None:
        return
    if isinstance(problem, BaseException):
        text = str(problem).strip().splitlines()
        problem = f"{type(problem).__name__}: {text[0] if text else ''}".rstrip(": ")
    notes.append(f"{name}: {problem}")


# -- the metric set of the running run (inherited by forked worker processes) --------------------


def metric_error_counts(records, limit: int = 20) -> dict[str, int]:
    """The distinct ``metric_error`` notes of a run's records with their image counts (for the
    manifest); empty when every metric was measured."""
    if METRIC_ERROR not in records:
        return {}
    notes = records[METRIC_ERROR].astype(object).fillna("")
    counts = notes[notes != ""].value_counts(sort=False)
    return {str(note): int(count) for note, count in list(counts.items())[:limit]}

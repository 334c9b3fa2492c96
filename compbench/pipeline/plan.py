"""A run's plan: everything a user can get wrong checked, the dataset opened and the images
chosen, before any image is coded or any folder made. The plan is frozen: executing and
finishing only read it."""

from __future__ import annotations

import hashlib
import os
import shlex
import sys
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ..analysis.references import ReferenceCurve, read_references
from ..contracts.codec import CodecFactory
from ..contracts.dataset import DatasetAdapter, ImageSource, select
from ..contracts.errors import CompbenchError, did_you_mean
from ..contracts.params import resolve_settings
from ..contracts.registry import Registry, build_registry
from ..defaults import ExecutorKind
from ..metrics import DEFAULT_RD_METRICS, MetricSet
from ..present.matched import parse_compare_at
from ..run.local_pool import preload_of, warm_fork_server
from ..run.machine import usable_cores
from ..run.memory import workers_for
from ..run.spec import CodecSpec, parse_codec_specs, parse_dataset_spec
from ..run.units import DataRef
from ..store.manifest import RunStatus, dataset_facts, describe_refusal, now_iso, software_facts
from ..store.names import written_name
from ..store.schema import record_columns
from .checks import check_figure_formats, check_table_format, require_available
from .request import OutputOptions, RunRequest

#: images per class kept (originals and reconstructions) for figure grids
SAMPLES_PER_CLASS = 2


@dataclass(frozen=True, kw_only=True)
class RunPlan:
    request: RunRequest
    output: OutputOptions
    #: the plugins (built from the entry points unless given)
    registry: Registry
    #: plugins registered in-process, handed to local workers (None: they load the entry points)
    worker_registry: Registry | None
    specs: tuple[CodecSpec, ...]
    #: heavy modules the workers start with (``CodecFactory.preload``)
    preload: tuple[str, ...]
    metrics: MetricSet
    rd_metrics: tuple[str, ...]
    data: DataRef
    #: the dataset's parameters as the user wrote them
    dataset_text: tuple[tuple[str, str], ...]
    source: ImageSource
    #: the chosen images' positions in the source, in order
    selection: np.ndarray
    #: position -> image shape
    shapes: dict[int, tuple[int, ...]]
    #: codec name -> {shape it does not take: why}
    refused: dict[str, dict[tuple[int, ...], str]]
    class_names: tuple[str, ...]
    #: positions whose reconstructions the figure grids show
    sample_positions: tuple[int, ...]
    #: records.csv's columns
    columns: tuple[str, ...]
    adapter: DatasetAdapter
    #: the cores this process may use (compbench.run.machine.usable_cores)
    cores: int
    #: workers, and why memory allowed fewer than asked ("" when it did not)
    jobs_and_why: tuple[int, str]
    #: the command line the manifest records
    command: str
    #: when planning began: ISO time, and seconds on the run's clock
    started: str
    clock: float
    #: published curves read from ``output.references`` (checked before anything runs)
    references: tuple[ReferenceCurve, ...] = ()

    @property
    def config(self) -> dict[str, Any]:
        """What ``--resume`` holds a folder's run to."""
        request = self.request
        return {"codecs": [spec.label for spec in self.specs], "dataset": self.data.dataset,
                "dataset_settings": dict(self.dataset_text), "split": self.data.split, "limit": request.limit,
                "per_class": request.per_class}

    @cached_property
    def manifest(self) -> dict[str, Any]:
        """manifest.json's opening facts: the command and the software, the codecs, the images
        (a checksum of every file used, files skipped or converted), codecs not applicable to
        some images and why, and the declarations of every metric measured."""
        request, factories = self.request, {spec.name: self.registry.codec(spec.name) for spec in self.specs}
        head = {"command": self.command, "status": RunStatus.RUNNING, "started": self.started}
        software = software_facts(self.registry, factories)
        libraries = software.pop("codec_libraries")
        return {
            **head, **software,
            "codecs": {spec.label: {"codec": spec.name, "settings": spec.kwargs} for spec in self.specs},
            "codec_libraries": libraries, "config": self.config,
            "run": {"dataset": self.data.dataset, "split": self.data.split, "images": len(self.selection),
                    "limit": request.limit, "per_class": request.per_class, "jobs": self.jobs,
                    "cores": self.cores,
                    "timeout": request.timeout, **({"jobs_limited": self.jobs_and_why[1]} if self.jobs_and_why[1] else {}),
                    **({"jobs_over_cores": why} if (why := self.jobs_over_cores) else {})},
            "failed_plugins": dict(self.registry.failures),
            **dataset_facts(self.adapter, self.source, self.data.split),
            "images_digest": hashlib.sha256("\n".join(self.image_ids.values()).encode()).hexdigest(),
            "not_applicable": {name: describe_refusal(by_shape, self.shapes) for name, by_shape in self.refused.items()},
            "metrics": self.metrics.declarations(), "rd_metrics": list(self.rd_metrics),
            "presentation": {"paper_figures": self.paper_figures, "compare_at": self.output.compare_at},
        }

    @property
    def paper_figures(self) -> bool:
        """Whether the paper's Figs. 6 and 8-10 are drawn: as asked, else as the dataset says."""
        asked = self.output.paper_figures
        return bool(getattr(self.adapter, "paper_figures", False)) if asked is None else asked

    @property
    def jobs(self) -> int:
        return self.jobs_and_why[0]

    @property
    def jobs_over_cores(self) -> str:
        """Why this run's codec timings read high when it starts more workers on this machine
        than it has cores ("" otherwise, and for a Dask scheduler elsewhere)."""
        if self.jobs <= self.cores or self.request.scheduler:
            return ""
        return (f"{self.jobs} workers share {self.cores} core(s): each codec's encode_s and decode_s include "
                f"waiting for a core; for timings, use at most --jobs {self.cores}")

    @cached_property
    def image_ids(self) -> dict[int, str]:
        """Position -> the image's stable identity in its dataset, as records.csv's ``image``
        holds it: its name (a file's path in the folder) or, for an array split, its index."""
        names, indices = self.source.names, np.asarray(self.source.indices)
        return {p: written_name(names[p]) if names else str(int(indices[p])) for p in self.selection.tolist()}

    @property
    def ordinal_of(self) -> dict[str, int]:
        """Setting label -> its number in the run (the records' order)."""
        return {spec.label: i for i, spec in enumerate(self.specs)}

    @property
    def declared_extras(self) -> dict[str, tuple[str, ...]]:
        """Codec name -> the extra metrics its factory declares (the only ones recorded)."""
        return {spec.name: tuple(m.name for m in self.registry.codec(spec.name).metrics) for spec in self.specs}

    @property
    def preload_by_codec(self) -> dict[str, tuple[str, ...]]:
        """Codec name -> the heavy modules its factory declares (its workers start with them)."""
        return {spec.name: tuple(self.registry.codec(spec.name).preload) for spec in self.specs}

    def expected_rows(self) -> dict[str, int]:
        """Setting label -> the records the run ends with (images its codec takes)."""
        counts: dict[str, int] = {}
        for spec in self.specs:
            skipped = self.refused.get(spec.name, {})
            counts[spec.label] = sum(1 for p in self.selection.tolist() if self.shapes[p] not in skipped)
        return counts


def plan_run(request: RunRequest, output: OutputOptions, registry: Registry | None = None) -> RunPlan:
    """Check the request and output options, open the dataset, choose the images and write
    down the manifest's opening facts."""
    clock = time.perf_counter()
    given = registry
    registry = registry or build_registry()
    specs, factories, metrics, rd_metrics = _codecs(request, output, registry)
    preload = preload_of(factories.values())
    if given is None and request.executor == ExecutorKind.LOCAL:
        warm_fork_server(preload)  # imports them while this process goes on planning
    references = _references(output)
    adapter, split, dataset_text = _dataset(request, registry)
    _check_options(request, output)
    source, selection, dataset_settings = _images(request, adapter, split, dataset_text)
    shapes = image_shapes(source, selection)
    refused = not_applicable(factories, shapes)
    # as every output writes them (records, tables, figures): a name that is not UTF-8 or holds a
    # control character cannot reach matplotlib or a terminal as it is
    class_names = tuple(written_name(name) for name in (getattr(source, "class_names", ()) or adapter.class_names))
    cores = usable_cores()
    return RunPlan(request=request, output=output, registry=registry, worker_registry=given, specs=tuple(specs),
                   preload=preload,
                   metrics=metrics, rd_metrics=rd_metrics,
                   data=DataRef(adapter.name, split, tuple(sorted(dataset_settings.items()))),
                   dataset_text=tuple(dataset_text.items()), source=source, selection=selection, shapes=shapes,
                   refused=refused, class_names=class_names,
                   sample_positions=tuple(sample_positions(source.labels, selection)),
                   columns=tuple(record_columns(metrics.names)), adapter=adapter,
                   cores=cores, jobs_and_why=workers_for(request.jobs or cores, largest_pixels(shapes)),
                   command=request.command or " ".join(shlex.quote(a) for a in sys.argv), started=now_iso(),
                   clock=clock, references=references)


def _codecs(request: RunRequest, output: OutputOptions, registry: Registry):
    """The codec settings, their factories (available here), the metrics and RD axes."""
    specs = parse_codec_specs(request.codecs, registry, sweep=request.sweep)
    factories = {spec.name: registry.codec(spec.name) for spec in specs}
    for name, factory in factories.items():
        require_available(factory, f"codec {name!r}")
    metrics = MetricSet.for_run(registry, factories.values(), extra=request.metrics_extra)
    for metric in metrics:
        if metric.available is not None:
            require_available(metric, f"metric {metric.name!r}")
    rd_metrics = metrics.check_rd_metrics(request.rd_metrics or DEFAULT_RD_METRICS)
    parse_compare_at(output.compare_at, metrics)  # a wrong --compare-at stops before any image is coded
    check_table_format(output.table_format)
    _check_anchor(output.anchor, specs, registry)
    return specs, factories, metrics, rd_metrics


def _check_anchor(anchor: str | None, specs: list[CodecSpec], registry: Registry) -> None:
    """An --anchor must be a codec of this run: BD against a codec that did not run is empty."""
    if anchor is None:
        return
    ran = list(dict.fromkeys(spec.name for spec in specs))
    if anchor not in registry.codecs:
        raise CompbenchError(f"unknown --anchor {anchor!r}{did_you_mean(anchor, ran)}valid: the codecs of this run "
                             f"({', '.join(ran)})")
    if anchor not in ran:
        raise CompbenchError(f"--anchor {anchor} is not a codec of this run ({', '.join(ran)}); name one of them, "
                             f"or add {anchor} to --codecs")


def _references(output: OutputOptions) -> tuple[ReferenceCurve, ...]:
    """The reference curves, read now so that a malformed file stops the run before it starts."""
    paths = output.references
    return read_references([paths] if isinstance(paths, (str, os.PathLike)) else paths)


def _dataset(request: RunRequest, registry: Registry) -> tuple[DatasetAdapter, str, dict[str, str]]:
    name, dataset_text = parse_dataset_spec(request.dataset)
    adapter = registry.dataset(name)
    return adapter, request.split or adapter.default_split, dataset_text


def _check_options(request: RunRequest, output: OutputOptions) -> None:
    for value, flag in ((request.limit, "--limit"), (request.per_class, "--per-class")):
        if value is not None and value < 1:
            raise CompbenchError(f"{flag} {value} must be at least 1")
    if not request.timeout > 0:
        raise CompbenchError(f"--timeout {request.timeout} must be more than 0 seconds")
    if output.resume and output.overwrite:
        raise CompbenchError("--resume and --overwrite exclude each other: continue the run, or replace it")
    if output.retry_failed and not output.resume:
        raise CompbenchError("--retry-failed needs --resume: it runs again the failed images of a stored run")
    if (output.resume or output.overwrite) and (output.out is None or not output.write):
        raise CompbenchError(f"--{'resume' if output.resume else 'overwrite'} needs --out DIR, the folder of the run")
    if output.write and output.figures:  # after the fork server is started: it imports matplotlib
        check_figure_formats(output.figure_formats)


def _images(request: RunRequest, adapter: DatasetAdapter, split: str, dataset_text: dict[str, str]):
    """The opened split, the chosen positions and the dataset's resolved parameters."""
    require_available(adapter, f"dataset {adapter.name!r}")
    adapter.check_split(split)
    settings = resolve_settings(adapter.params, dataset_text, owner=f"dataset {adapter.name}")
    source = adapter.open(split, **settings)
    selection = select(source.labels, request.limit, request.per_class)
    if len(selection) == 0:
        raise CompbenchError(f"dataset {adapter.name!r} split {split!r} selected no images; "
                             "check --limit/--per-class")
    return source, selection, settings


def image_shapes(source: ImageSource, positions) -> dict[int, tuple[int, ...]]:
    """Position -> image shape, read once per image (or once, for an array of one shape)."""
    images = getattr(source, "images", None)
    positions = np.asarray(positions, dtype=np.int64).tolist()  # Python ints: a numpy loop costs 1-2 us each
    if isinstance(images, np.ndarray):
        return dict.fromkeys(positions, tuple(images.shape[1:]))
    return {p: tuple(source.shape(p)) for p in positions}


def largest_pixels(shapes: dict[int, tuple[int, ...]]) -> int:
    return max((shape[0] * shape[1] for shape in set(shapes.values())), default=0)


def not_applicable(factories: dict[str, CodecFactory], shapes: dict[int, tuple]) -> dict[str, dict[tuple, str]]:
    """Codec name -> {shape it does not take: the codec's reason}, asked once per shape."""
    refused: dict[str, dict[tuple, str]] = {}
    for name, factory in factories.items():
        for shape in dict.fromkeys(shapes.values()):
            try:
                reason = factory.not_applicable(shape)
            except Exception as exc:
                reason = f"not_applicable check failed: {type(exc).__name__}: {exc}"
            if reason:
                refused.setdefault(name, {})[shape] = str(reason)
    return refused


def sample_positions(labels: np.ndarray, selection: np.ndarray, per_class: int = SAMPLES_PER_CLASS) -> list[int]:
    """The first ``per_class`` chosen images of each class: the figure grids' rows."""
    chosen = np.asarray(labels)[selection]
    return [int(selection[p]) for label in np.unique(chosen) for p in np.flatnonzero(chosen == label)[:per_class]]

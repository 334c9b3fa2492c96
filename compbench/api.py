"""The Python API: everything the CLI does, returning pandas DataFrames."""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .contracts.dataset import DatasetAdapter, ImageSet, ImageSource, select
from .contracts.errors import CompbenchError
from .contracts.params import resolve_settings
from .contracts.registry import Registry, build_registry
from .present.tables import check_table_format, write_summary_files, write_table_file
from .run.metric_set import DEFAULT_RD_METRICS, MetricSet, measuring, metric_error_counts
from .run.progress import ProgressBar
from .run.runner import execute, plan_units
from .run.spec import CodecSpec, parse_codec_specs
from .store.folder import (
    NEW,
    OVERWRITE,
    RESUME,
    claim_folder,
    default_folder,
    read_manifest,
    write_atomic,
    write_json,
)
from .store.manifest import environment, now_iso, plugin_requirements
from .store.records import RecordsWriter, record_frame, unit_records
from .store.summary import summarize

DEFAULT_CODECS = "ddcae,jpeg,jpeg2000"
DEFAULT_ANCHOR = "jpeg2000"
#: images per class kept (originals and reconstructions) for figure grids
SAMPLES_PER_CLASS = 2


@dataclass
class RunResult:
    records: pd.DataFrame
    summary: pd.DataFrame
    out_dir: Path | None
    manifest: dict
    data: ImageSet
    #: setting label -> {position in data: reconstruction}, a few images per class
    samples: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    class_names: tuple[str, ...] = ()
    #: setting label -> {position: {panel name: image}} (Codec.figure_panels), for Fig. 6
    panels: dict[str, dict[int, dict[str, np.ndarray]]] = field(default_factory=dict)
    #: BD-rate/BD-quality against the anchor (PSNR and SSIM, overall and per class), when the
    #: anchor and another codec each ran at two or more settings
    bdrate: pd.DataFrame | None = None
    #: quality metrics drawn as RD-plot y-axes (and BD tables), from ``rd_metrics``
    rd_metrics: tuple[str, ...] = DEFAULT_RD_METRICS


def run(
    codecs: str = DEFAULT_CODECS,
    dataset: str = "mnist",
    split: str | None = None,
    limit: int | None = None,
    per_class: int | None = None,
    out: str | Path | None = None,
    jobs: int | None = None,
    sweep: bool = False,
    progress: bool = False,
    write: bool = True,
    figures: bool = True,
    figure_formats: tuple[str, ...] = ("png",),
    anchor: str = DEFAULT_ANCHOR,
    table_format: str = "github",
    registry: Registry | None = None,
    command: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
    rd_metrics: str | tuple[str, ...] | None = None,
) -> RunResult:
    """Run codecs over a dataset (``name`` or ``name:key=value``); write the results folder
    (unless ``write=False``).

    Everything a user can get wrong is checked before any image is coded or any folder made.
    ``out`` must not hold another run unless ``resume`` (continue it: the same command) or
    ``overwrite`` (replace it whole). ``rd_metrics``: the quality metrics of the RD plots and BD
    tables (default psnr, ssim), any declared with ``quality_axis=True``, e.g. "psnr,ms_ssim".
    """
    registry = registry or build_registry()
    specs = parse_codec_specs(codecs, registry, sweep=sweep)
    metric_set = MetricSet.for_run(registry, [registry.codec(n) for n in dict.fromkeys(s.name for s in specs)])
    if isinstance(rd_metrics, str):
        rd_metrics = rd_metrics.split(",")
    rd_metrics = metric_set.check_rd_metrics(rd_metrics or DEFAULT_RD_METRICS)
    for name in dict.fromkeys(spec.name for spec in specs):
        require_available(registry.codec(name), f"codec {name!r}")
    check_table_format(table_format)
    if anchor not in registry.codecs:
        raise CompbenchError(f"unknown --anchor {anchor!r}; valid: {', '.join(sorted(registry.codecs))}")
    if write and figures:
        check_figure_formats(figure_formats)
    dataset_name, dataset_settings = parse_dataset_spec(dataset)
    adapter = registry.dataset(dataset_name)
    split = split or adapter.default_split
    for value, flag in ((limit, "--limit"), (per_class, "--per-class")):
        if value is not None and value < 1:
            raise CompbenchError(f"{flag} {value} must be at least 1")
    if resume and overwrite:
        raise CompbenchError("--resume and --overwrite exclude each other: continue the run, or replace it")
    if (resume or overwrite) and (out is None or not write):
        raise CompbenchError(f"--{'resume' if resume else 'overwrite'} needs --out DIR, the folder of the run")
    source = open_dataset(adapter, split, dataset_settings)
    dataset = dataset_name
    data = source.take(select(source.labels, limit, per_class))
    if len(data) == 0:
        raise CompbenchError(f"dataset {dataset!r} split {split!r} selected no images; "
                             "check --limit/--per-class")
    jobs = jobs or os.cpu_count() or 1
    config = {"codecs": [spec.label for spec in specs], "dataset": dataset_name,
              "dataset_settings": dataset_settings, "split": split, "limit": limit, "per_class": per_class}

    out_dir = None
    if write:
        out_dir = _claim_out_dir(out, specs, config, resume, overwrite)
    started, clock = now_iso(), time.perf_counter()
    factories = [(spec, registry.codec(spec.name)) for spec in specs]
    units = plan_units(factories, len(data), jobs)
    sample_positions = frozenset(_sample_positions(data.labels, SAMPLES_PER_CLASS))
    bar = ProgressBar(len(specs) * len(data), enabled=progress)
    frames: list[pd.DataFrame] = []
    samples: dict[str, dict[int, np.ndarray]] = {spec.label: {} for spec in specs}
    panels: dict[str, dict[int, dict[str, np.ndarray]]] = {spec.label: {} for spec in specs}
    if resume:  # until records are resumed image by image, a resumed run codes everything again
        (out_dir / "records.csv").unlink(missing_ok=True)
    writer = RecordsWriter(out_dir / "records.csv") if out_dir else None
    # Units are planned in the order records are kept (setting, then index); results arrive as
    # workers finish, so hold each until its predecessors are in, then persist it.
    # (units come back from worker processes as copies: key them by setting and first image)
    ordinal = {(unit.spec.label, unit.start): i for i, unit in enumerate(units)}
    waiting: dict[int, pd.DataFrame] = {}

    def on_result(result) -> None:
        frame = unit_records(result, data.labels, data.indices, adapter.class_names, dataset, split)
        samples[result.unit.spec.label].update(result.samples)
        panels[result.unit.spec.label].update(result.panels)
        waiting[ordinal[result.unit.spec.label, result.unit.start]] = frame
        while len(frames) in waiting:
            frames.append(waiting.pop(len(frames)))
            if writer is not None:
                writer.append(frames[-1])
        bar.advance(len(frame), result.unit.spec.label)

    with measuring(metric_set):
        execute(units, data.images, jobs=jobs, sample_positions=sample_positions, on_result=on_result)
    bar.close()

    records = record_frame(frames)
    if writer is not None:
        writer.finish(records)
    summary = summarize(records, adapter.class_names, metric_set)
    manifest = {
        "command": command or " ".join(shlex.quote(a) for a in sys.argv),
        "started": started,
        "seconds": round(time.perf_counter() - clock, 3),
        **environment(),
        "plugins": plugin_requirements(registry),
        "codecs": {spec.label: {"codec": spec.name, "settings": spec.kwargs} for spec in specs},
        "codec_libraries": {name: registry.codec(name).library_versions() for name in dict.fromkeys(s.name for s in specs)},
        "status": "complete",
        "config": config,
        "run": {"dataset": dataset, "split": split, "images": len(data), "limit": limit,
                "per_class": per_class, "jobs": jobs},
        "failed_plugins": dict(registry.failures),
        "dataset_checksums": adapter.checksums(split),
        "errors": int((records["error"] != "").sum()),
        "metrics": metric_set.declarations(),
        **({"metric_errors": notes} if (notes := metric_error_counts(records)) else {}),
    }
    result = RunResult(records, summary, out_dir, manifest, data, samples, adapter.class_names, panels,
                       bd_tables(summary, anchor, rd_metrics), rd_metrics)
    if out_dir is not None:
        write_results_folder(result, figures, figure_formats, table_format)
    return result


def write_results_folder(result: RunResult, figures: bool, figure_formats, table_format: str) -> None:
    """Everything a run leaves behind: tables, BD table, figures, manifest, report.html."""
    from .present.grids import write_run_figures  # matplotlib loads only when a run writes figures
    from .present.report import write_report

    out_dir = result.out_dir
    if result.bdrate is not None:
        write_atomic(out_dir / "bdrate.csv", result.bdrate.to_csv(index=False))
    if figures:
        result.manifest["figures"] = [p.name for p in write_run_figures(result, out_dir, figure_formats)]
    write_summary_files(out_dir, result.summary, result.manifest)
    if table_format not in ("github", "pipe"):
        write_table_file(out_dir, result.summary, table_format)
    write_report(out_dir)


def bd_tables(summary: pd.DataFrame, anchor: str, qualities=DEFAULT_RD_METRICS) -> pd.DataFrame | None:
    """BD metrics when there are curves to compare: the anchor and another codec each with at
    least two settings; one row per quality metric (PSNR and SSIM unless told), overall and
    per class."""
    from .analysis.bdrate import bd_table

    settings = summary.groupby("codec")["setting"].nunique()
    if settings.get(anchor, 0) < 2 or (settings.drop(anchor) < 2).all():
        return None
    return pd.concat([bd_table(summary, anchor, quality=q, by_class=True) for q in qualities],
                     ignore_index=True)


def load_dataset(name: str, split: str | None = None, registry: Registry | None = None,
                 **settings) -> ImageSource:
    """A registered dataset's split, opened with these parameters (text as in a spec, or values)."""
    adapter = (registry or build_registry()).dataset(name)
    return open_dataset(adapter, split, settings)


def open_dataset(adapter: DatasetAdapter, split: str | None, settings: dict) -> ImageSource:
    require_available(adapter, f"dataset {adapter.name!r}")
    split = split or adapter.default_split
    adapter.check_split(split)
    return adapter.open(split, **resolve_settings(adapter.params, settings, owner=f"dataset {adapter.name}"))


def parse_dataset_spec(text: str) -> tuple[str, dict[str, str]]:
    """``folder:path=/data/kodak`` -> ("folder", {"path": "/data/kodak"}). A value may hold ``:``
    (only ``:key=`` starts a new parameter)."""
    name, *parts = re.split(r":(?=[A-Za-z_][\w-]*=)", text.strip())
    settings: dict[str, str] = {}
    for part in parts:
        key, _, value = part.partition("=")
        if key in settings:
            raise CompbenchError(f"dataset spec {text!r} gives {key}= twice; give each parameter once")
        settings[key] = value
    if not name or ":" in name:
        raise CompbenchError(f"dataset spec {text!r} is not name[:key=value...]; write e.g. "
                             "--dataset folder:path=DIR")
    return name, settings


def _claim_out_dir(out, specs: list[CodecSpec], config: dict, resume: bool, overwrite: bool) -> Path:
    if out is None:
        return default_folder(spec.name for spec in specs)
    mode = RESUME if resume else OVERWRITE if overwrite else NEW
    out_dir = claim_folder(Path(out), mode)
    if resume:
        stored = read_manifest(out_dir).get("config")
        differ = [key for key in config if stored is None or stored.get(key) != config[key]]
        if differ:
            before = "(none recorded)" if stored is None else ", ".join(f"{k}={stored.get(k)!r}" for k in differ)
            raise CompbenchError(f"--resume: this command differs from the run in {out_dir} in "
                                 f"{', '.join(differ)} (the run has {before}); repeat the run's own "
                                 "command with --resume, or use --overwrite")
    else:
        write_json(out_dir / "manifest.json", {"status": "running", "started": now_iso(), "config": config})
    return out_dir


def check_figure_formats(formats) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    unknown = [f for f in formats if f not in supported]
    if unknown or not formats:
        raise CompbenchError(f"unknown figure format {(unknown or [''])[0]!r}; valid: {', '.join(sorted(supported))}")


def require_available(plugin, what: str) -> None:
    status = plugin.available()
    if not status.ok:
        raise CompbenchError(f"{what} is not available: {status.reason}; fix: {status.fix}")


def _sample_positions(labels: np.ndarray, per_class: int) -> list[int]:
    return [int(p) for label in np.unique(labels) for p in np.flatnonzero(labels == label)[:per_class]]


def describe_plugins(registry: Registry | None = None) -> dict:
    """Every codec, dataset and trainer with its provider, parameters and availability."""
    registry = registry or build_registry()

    def status(obj) -> dict:
        try:
            s = obj.available()
        except Exception as exc:  # a plugin's own check must not break the listing
            return {"available": False, "reason": f"availability check failed: {exc}", "fix": ""}
        return {"available": s.ok, "reason": s.reason, "fix": s.fix}

    def entry(registered, extra: dict) -> dict:
        p = registered.provenance
        return {"name": registered.name, "description": registered.obj.description,
                "plugin": p.plugin, "distribution": p.distribution, "version": p.version,
                **extra, **status(registered.obj)}

    return {
        "codecs": [entry(r, {"params": [p.as_dict() for p in r.obj.params],
                             "ladder": list(r.obj.ladder)}) for r in sorted(registry.codecs.values(), key=lambda r: r.name)],
        "datasets": [entry(r, {"splits": list(r.obj.splits), "classes": list(r.obj.class_names)})
                     for r in sorted(registry.datasets.values(), key=lambda r: r.name)],
        "trainers": [entry(r, {"params": [p.as_dict() for p in r.obj.params]})
                     for r in sorted(registry.trainers.values(), key=lambda r: r.name)],
        "failed_plugins": [{"plugin": name, "error": error} for name, error in sorted(registry.failures.items())],
    }

"""The Python API: everything the CLI does, returning pandas DataFrames."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from .contracts.dataset import DatasetAdapter, ImageSet, ImageSource, select
from .contracts.errors import CompbenchError
from .contracts.params import resolve_settings
from .contracts.registry import Registry, build_registry
from .present.tables import check_table_format, write_summary_files, write_table_file
from .contracts.codec import CodecFactory
from .run.pool import DEFAULT_TIMEOUT, LocalPool
from .run.progress import ProgressBar
from .run.spec import CodecSpec, parse_codec_specs
from .run.units import DataRef, plan_units
from .store.files import write_atomic
from .store.manifest import environment, now_iso, plugin_requirements
from .store.records import (OPTIONAL_METRICS, RecordsFile, prepare_out_dir, read_records, record_columns,
                            record_frame, unit_records)
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
    timeout: float = DEFAULT_TIMEOUT,
) -> RunResult:
    """Run codecs over a dataset; write the results folder (unless ``write=False``).

    ``resume`` continues the records.csv already in ``out`` (running only the images it lacks)
    and then finishes the folder; ``timeout`` is the seconds one image may take in one stage.
    SIGTERM is handled like Ctrl-C: :class:`RunInterrupted` with every finished unit on disk.
    """
    given_registry = registry
    registry = registry or build_registry()
    specs = parse_codec_specs(codecs, registry, sweep=sweep)
    for name in dict.fromkeys(spec.name for spec in specs):
        require_available(registry.codec(name), f"codec {name!r}")
    check_table_format(table_format)
    adapter = registry.dataset(dataset)
    require_available(adapter, f"dataset {dataset!r}")
    split = split or adapter.default_split
    adapter.check_split(split)
    for value, flag in ((limit, "--limit"), (per_class, "--per-class")):
        if value is not None and value < 1:
            raise CompbenchError(f"{flag} {value} must be at least 1")
    if not timeout > 0:
        raise CompbenchError(f"--timeout {timeout} must be more than 0 seconds")
    if resume and not (write and out):
        raise CompbenchError("--resume needs the results folder to continue: give it with --out")
    source = open_dataset(adapter, split, {})
    selection = select(source.labels, limit, per_class)
    if len(selection) == 0:
        raise CompbenchError(f"dataset {dataset!r} split {split!r} selected no images; "
                             "check --limit/--per-class")
    jobs = jobs or os.cpu_count() or 1
    started, clock = now_iso(), time.perf_counter()

    shapes = image_shapes(source, selection)
    factories = {spec.name: registry.codec(spec.name) for spec in specs}
    refused = not_applicable(factories, shapes)
    declared = {name: tuple(m.name for m in factory.metrics) + tuple(OPTIONAL_METRICS)
                for name, factory in factories.items()}
    columns = record_columns([m for names in declared.values() for m in names])
    class_names = adapter.class_names or getattr(source, "class_names", ())
    sample_positions = [int(selection[i]) for i in _sample_positions(source.labels[selection], SAMPLES_PER_CLASS)]
    data_ref = DataRef(dataset, split)
    manifest = {
        "command": command or " ".join(shlex.quote(a) for a in sys.argv),
        "status": "running",
        "started": started,
        **environment(),
        "plugins": plugin_requirements(registry),
        "codecs": {spec.label: {"codec": spec.name, "settings": spec.kwargs} for spec in specs},
        "codec_libraries": {name: factory.library_versions() for name, factory in factories.items()},
        "run": {"dataset": dataset, "split": split, "images": len(selection), "limit": limit,
                "per_class": per_class, "jobs": jobs, "timeout": timeout},
        "dataset_checksums": adapter.checksums(split),
        "not_applicable": {name: describe_refusal(by_shape, shapes) for name, by_shape in refused.items()},
    }

    out_dir, writer = None, None
    ordinal_of = {spec.label: i for i, spec in enumerate(specs)}
    if write:
        out_dir = prepare_out_dir(Path(out) if out else default_out_dir(specs))
        path = out_dir / "records.csv"
        if resume:
            position_of = {int(source.indices[p]): int(p) for p in selection}
            writer = RecordsFile.resume(path, columns, ordinal_of, position_of)
        else:
            writer = RecordsFile.create(path, columns)
        write_atomic(out_dir / "manifest.json", manifest_json(manifest))
    units = plan_units(specs, data_ref, selection, shapes, jobs, done=writer.recorded() if writer else set(),
                       skip={name: set(by_shape) for name, by_shape in refused.items()},
                       samples=sample_positions, extra_metrics=declared)

    frames: list[tuple[np.ndarray, pd.DataFrame]] = []
    samples: dict[str, dict[int, np.ndarray]] = {spec.label: {} for spec in specs}
    panels: dict[str, dict[int, dict[str, np.ndarray]]] = {spec.label: {} for spec in specs}
    notes: dict[str, list[str]] = {}
    bar = ProgressBar(sum(len(unit.positions) for unit in units), enabled=progress)
    pool_registry = given_registry  # None: each worker builds its own from the entry points

    def keep(result) -> None:
        label = result.unit.spec.label
        samples[label].update(result.samples)
        panels[label].update(result.panels)
        for note in result.notes:
            if note not in notes.setdefault(label, []):
                notes[label].append(note)

    with interrupts_raised(), _stopping(writer, out_dir), LocalPool(jobs, timeout, pool_registry) as pool:
        for result in pool.run(units):
            frame = unit_records(result, source, class_names, dataset, split, columns)
            keys = np.column_stack([np.full(len(frame), ordinal_of[result.unit.spec.label]),
                                    np.asarray(result.positions)])
            if writer is not None:
                writer.append(frame, keys)
            frames.append((keys, frame))
            keep(result)
            bar.advance(len(frame), result.unit.spec.label)
        bar.close()
        if writer is not None:
            writer.finish()
        if resume:
            records = read_records(writer.path)
        else:
            records = _in_order(frames, columns)
        # reconstructions for the figure grids of images recorded by an earlier (resumed) run
        for result in pool.run(_sample_units(specs, data_ref, records, samples, sample_positions, shapes,
                                             source, refused, declared)):
            keep(result)

        manifest["notes"] = notes
        manifest["seconds"] = round(time.perf_counter() - clock, 3)
        rel = {int(p): i for i, p in enumerate(selection)}
        data = source.take(selection) if hasattr(source, "take") else ImageSet(
            source.read(selection), source.labels[selection], source.indices[selection], class_names)
        return finish_run(records, manifest, out_dir, data, class_names,
                          {label: {rel[p]: image for p, image in by.items()} for label, by in samples.items()},
                          {label: {rel[p]: named for p, named in by.items()} for label, by in panels.items()},
                          anchor, figures, figure_formats, table_format)


def finish_run(records: pd.DataFrame, manifest: dict, out_dir: Path | None, data: ImageSet, class_names,
               samples: dict, panels: dict, anchor: str = DEFAULT_ANCHOR, figures: bool = True,
               figure_formats=("png",), table_format: str = "github") -> RunResult:
    """Summary, BD table, figures, manifest and report from a run's records: the end of every
    run, and all that a folder whose records are complete still needs (:func:`finish`)."""
    summary = summarize(records, class_names)
    manifest = {**manifest, "status": "complete", "errors": int((records["error"] != "").sum())}
    result = RunResult(records, summary, out_dir, manifest, data, samples, tuple(class_names), panels,
                       bd_tables(summary, anchor))
    if out_dir is not None:
        write_results_folder(result, figures, figure_formats, table_format)
    return result


def finish(out: str | Path, figures: bool = True, figure_formats: tuple[str, ...] = ("png",),
           anchor: str = DEFAULT_ANCHOR, table_format: str = "github", registry: Registry | None = None,
           reencode_samples: bool = True) -> RunResult:
    """Finish a results folder from its records.csv without recomputing the records: summary,
    BD table, figures and report. The image grids need reconstructions: the few sample images
    are encoded again when the run's codecs and dataset are here (``reencode_samples``), else
    the grids are left out and a note says so in the manifest."""
    out_dir = Path(out)
    records = read_records(out_dir / "records.csv")
    if records.empty:
        raise CompbenchError(f"{out_dir / 'records.csv'} holds no records; run the command again")
    manifest_path = out_dir / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    except (OSError, ValueError) as exc:
        raise CompbenchError(f"{manifest_path} is not readable ({exc}); remove it to finish from records.csv") from None
    registry = registry or build_registry()
    dataset, split = str(records["dataset"].iloc[0]), str(records["split"].iloc[0])
    adapter = registry.dataset(dataset)
    source = open_dataset(adapter, split, {})
    position_of = {int(index): p for p, index in enumerate(source.indices)}
    selection = np.array(sorted({position_of[int(i)] for i in records["index"]}), dtype=int)
    class_names = adapter.class_names or getattr(source, "class_names", ())
    labels = dict(records.groupby("setting", sort=False)["codec"].first())
    described = manifest.get("codecs", {})
    specs = [CodecSpec(codec, tuple(described.get(label, {}).get("settings", {}).items()), label)
             for label, codec in labels.items()]
    sample_positions = [int(selection[i]) for i in _sample_positions(source.labels[selection], SAMPLES_PER_CLASS)]
    samples: dict[str, dict[int, np.ndarray]] = {spec.label: {} for spec in specs}
    panels: dict[str, dict[int, dict]] = {spec.label: {} for spec in specs}
    notes = dict(manifest.get("notes", {}))
    if reencode_samples and all(label in described for label in labels):
        shapes = image_shapes(source, sample_positions)
        units = _sample_units(specs, DataRef(dataset, split), records, samples, sample_positions, shapes,
                              source, {}, {})
        with interrupts_raised(), LocalPool(1, DEFAULT_TIMEOUT, registry) as pool:
            for result in pool.run(units):
                samples[result.unit.spec.label].update(result.samples)
                panels[result.unit.spec.label].update(result.panels)
    else:
        notes["figures"] = ["image grids left out: the samples were not encoded again"]
    rel = {int(p): i for i, p in enumerate(selection)}
    data = source.take(selection) if hasattr(source, "take") else ImageSet(
        source.read(selection), source.labels[selection], source.indices[selection], class_names)
    manifest = {**manifest, "notes": notes}
    manifest.setdefault("run", {"dataset": dataset, "split": split, "images": len(selection)})
    return finish_run(records, manifest, out_dir, data, class_names,
                      {label: {rel[p]: image for p, image in by.items()} for label, by in samples.items()},
                      {label: {rel[p]: named for p, named in by.items()} for label, by in panels.items()},
                      anchor, figures, figure_formats, table_format)


def image_shapes(source: ImageSource, positions) -> dict[int, tuple[int, ...]]:
    """Position -> image shape, read once per image (or once, for an array of one shape)."""
    images = getattr(source, "images", None)
    if isinstance(images, np.ndarray):
        return dict.fromkeys((int(p) for p in positions), tuple(images.shape[1:]))
    return {int(p): tuple(source.shape(int(p))) for p in positions}


def _sample_units(specs, data_ref, records, samples, sample_positions, shapes, source, refused, declared):
    """Units that encode again the sample images a resumed run did not encode this time (they
    were recorded before, without an error), for the figure grids; not recorded."""
    if all(p in samples[spec.label] for spec in specs for p in sample_positions):
        return []
    recorded_ok = set(zip(records.loc[records["error"] == "", "setting"], records.loc[records["error"] == "", "index"].astype(int)))
    units = []
    for spec in specs:
        missing = [p for p in sample_positions if p not in samples[spec.label]
                   and (spec.label, int(source.indices[p])) in recorded_ok]
        for unit in plan_units([spec], data_ref, missing, shapes, 1, samples=missing,
                               skip={k: set(v) for k, v in refused.items()}, extra_metrics=declared,
                               chunk=max(1, len(missing))):
            units.append(replace(unit, ordinal=len(units)))
    return units


def _in_order(frames: list[tuple[np.ndarray, pd.DataFrame]], columns) -> pd.DataFrame:
    """The records of this run in canonical order (setting, then position), as records.csv."""
    if not frames:
        return record_frame([], columns)
    frames = sorted(frames, key=lambda item: tuple(item[0][0]))  # units in order: usually enough
    keys = np.concatenate([k for k, _ in frames])
    records = record_frame([f for _, f in frames], columns)
    order = np.lexsort((keys[:, 1], keys[:, 0]))
    if (np.diff(order) == 1).all():
        return records
    return records.iloc[order].reset_index(drop=True)


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


def describe_refusal(by_shape: dict[tuple, str], shapes: dict[int, tuple]) -> dict:
    skipped = sum(1 for shape in shapes.values() if shape in by_shape)
    return {"images": skipped, "of": len(shapes), "reasons": list(dict.fromkeys(by_shape.values()))}


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM; every finished unit's records are on disk."""

    def __init__(self, signal_name: str, records: int, out_dir: Path | None) -> None:
        super().__init__(signal_name)
        self.signal_name, self.records, self.out_dir = signal_name, records, out_dir

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports it: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + int(getattr(signal.Signals, self.signal_name, signal.SIGINT))

    def message(self) -> str:
        where = f"{self.records} records kept in {self.out_dir}; finish with --resume" if self.out_dir \
            else "nothing was written"
        return f"compbench: interrupted ({self.signal_name}); {where}"


class _Terminated(KeyboardInterrupt):
    pass


@contextmanager
def interrupts_raised():
    """SIGTERM (what a supervisor sends) takes the same way out as Ctrl-C (KeyboardInterrupt)."""
    def on_term(signum, frame):
        raise _Terminated("SIGTERM")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _stopping(writer: RecordsFile | None, out_dir: Path | None):
    """Turn an interrupt into :class:`RunInterrupted` once the records on disk are whole."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if isinstance(exc, RunInterrupted):
            raise
        if writer is not None:
            writer.close()
        name = "SIGTERM" if isinstance(exc, _Terminated) else "SIGINT"
        raise RunInterrupted(name, writer.rows if writer else 0, out_dir) from None
    finally:
        if writer is not None:
            writer.close()


def manifest_json(manifest: dict) -> str:
    return json.dumps(manifest, indent=2, default=str) + "\n"


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


def bd_tables(summary: pd.DataFrame, anchor: str) -> pd.DataFrame | None:
    """BD metrics when there are curves to compare: the anchor and another codec each with at
    least two settings; PSNR and SSIM rows, overall and per class."""
    from .analysis.bdrate import bd_table

    settings = summary.groupby("codec")["setting"].nunique()
    if settings.get(anchor, 0) < 2 or (settings.drop(anchor) < 2).all():
        return None
    return pd.concat([bd_table(summary, anchor, quality=q, by_class=True) for q in ("psnr", "ssim")],
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


def require_available(plugin, what: str) -> None:
    status = plugin.available()
    if not status.ok:
        raise CompbenchError(f"{what} is not available: {status.reason}; fix: {status.fix}")


def default_out_dir(specs: list[CodecSpec]) -> Path:
    names = "+".join(dict.fromkeys(spec.name for spec in specs))
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("results") / f"{stamp}-{re.sub(r'[^A-Za-z0-9+_-]', '_', names)[:80]}"


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

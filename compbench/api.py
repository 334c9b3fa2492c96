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

from .contracts.codec import CodecFactory
from .contracts.dataset import DatasetAdapter, ImageSet, ImageSource, select
from .contracts.errors import CompbenchError
from .contracts.params import resolve_settings
from .contracts.registry import Registry, build_registry
from .metrics import DEFAULT_RD_METRICS, MetricSet
from .present.tables import check_table_format, write_summary_files, write_table_file
from .run.pool import DEFAULT_TIMEOUT, LocalPool
from .run.progress import ProgressBar
from .run.spec import CodecSpec, parse_codec_specs
from .run.units import DataRef, plan_units
from .store.files import write_atomic, write_json
from .store.folder import NEW, OVERWRITE, RESUME, claim_folder, default_folder, read_manifest
from .store.manifest import now_iso, run_manifest
from .store.records import (
    RecordBlock,
    RecordsFile,
    iter_records,
    metric_error_counts,
    read_records,
    record_columns,
    record_frame,
    unit_records,
)
from .store.summary import summarize, summarize_file

DEFAULT_CODECS = "ddcae,jpeg,jpeg2000"
DEFAULT_ANCHOR = "jpeg2000"
#: images per class kept (originals and reconstructions) for figure grids
SAMPLES_PER_CLASS = 2
EXECUTORS = ("local", "dask")


@dataclass
class RunResult:
    #: the records (a frame), or the records.csv they are read from when first asked for
    #: (:attr:`records`): a large run's records are never all in memory unless asked for
    stored_records: pd.DataFrame | Path
    summary: pd.DataFrame
    out_dir: Path | None
    manifest: dict
    #: the selected images: an ImageSet, or a :class:`Selection` read by position (:attr:`data`)
    selection: ImageSet | Selection
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
    #: the records of the sample images (what the figure grids print beside them)
    sample_records: pd.DataFrame | None = None

    @property
    def records(self) -> pd.DataFrame:
        """Every record, in canonical order (read from records.csv when first asked for)."""
        if isinstance(self.stored_records, Path):
            self.stored_records = read_records(self.stored_records)
        return self.stored_records

    @property
    def data(self) -> ImageSet:
        """The selected images in memory (read when first asked for)."""
        if isinstance(self.selection, Selection):
            self.selection = self.selection.load()
        return self.selection


@dataclass
class Selection:
    """The selected images of a source, read by position only when wanted (figures read a few)."""

    source: ImageSource
    positions: np.ndarray
    class_names: tuple[str, ...] = ()

    @property
    def labels(self) -> np.ndarray:
        return np.asarray(self.source.labels)[self.positions]

    @property
    def indices(self) -> np.ndarray:
        return np.asarray(self.source.indices)[self.positions]

    def __len__(self) -> int:
        return len(self.positions)

    def read(self, positions) -> list[np.ndarray]:
        return self.source.read([int(self.positions[int(p)]) for p in positions])

    def load(self) -> ImageSet:
        source, selection = self.source, self.positions
        if hasattr(source, "take"):
            return source.take(selection)
        return ImageSet(source.read(selection), source.labels[selection], source.indices[selection],
                        self.class_names)


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
    timeout: float = DEFAULT_TIMEOUT,
    rd_metrics: str | tuple[str, ...] | None = None,
    executor: str = "local",
    scheduler: str | None = None,
    metrics_extra: str | tuple[str, ...] = (),
) -> RunResult:
    """Run codecs over a dataset (``name`` or ``name:key=value``); write the results folder
    (unless ``write=False``).

    Everything a user can get wrong is checked before any image is coded or any folder made.
    ``out`` must not hold another run unless ``resume`` (continue it: the same command; only the
    images its records.csv lacks are run) or ``overwrite`` (replace it whole). ``timeout`` is
    the seconds one image may take in one stage. ``rd_metrics``: the quality metrics of the RD
    plots and BD tables (default psnr, ssim), any declared with ``quality_axis=True``. SIGTERM
    is handled like Ctrl-C: :class:`RunInterrupted` with every finished unit on disk.
    ``executor``: "local" (worker processes here) or "dask" (a local Dask cluster of ``jobs``
    workers, or the one whose scheduler is at ``scheduler``, ``tcp://HOST:PORT``).
    ``metrics_extra``: optional metrics to measure too (``Metric.optional``), e.g. "ssimulacra2".
    """
    given_registry = registry
    registry = registry or build_registry()
    specs = parse_codec_specs(codecs, registry, sweep=sweep)
    factories = {spec.name: registry.codec(spec.name) for spec in specs}
    for name, factory in factories.items():
        require_available(factory, f"codec {name!r}")
    if isinstance(metrics_extra, str):
        metrics_extra = tuple(name.strip() for name in metrics_extra.split(",") if name.strip())
    metric_set = MetricSet.for_run(registry, factories.values(), extra=metrics_extra)
    if isinstance(rd_metrics, str):
        rd_metrics = rd_metrics.split(",")
    rd_metrics = metric_set.check_rd_metrics(rd_metrics or DEFAULT_RD_METRICS)
    check_table_format(table_format)
    if anchor not in registry.codecs:
        raise CompbenchError(f"unknown --anchor {anchor!r}; valid: {', '.join(sorted(registry.codecs))}")
    if write and figures:
        check_figure_formats(figure_formats)
    dataset, dataset_text = parse_dataset_spec(dataset)
    adapter = registry.dataset(dataset)
    split = split or adapter.default_split
    for value, flag in ((limit, "--limit"), (per_class, "--per-class")):
        if value is not None and value < 1:
            raise CompbenchError(f"{flag} {value} must be at least 1")
    if not timeout > 0:
        raise CompbenchError(f"--timeout {timeout} must be more than 0 seconds")
    if resume and overwrite:
        raise CompbenchError("--resume and --overwrite exclude each other: continue the run, or replace it")
    if (resume or overwrite) and (out is None or not write):
        raise CompbenchError(f"--{'resume' if resume else 'overwrite'} needs --out DIR, the folder of the run")
    require_available(adapter, f"dataset {dataset!r}")
    adapter.check_split(split)
    dataset_settings = resolve_settings(adapter.params, dataset_text, owner=f"dataset {dataset}")
    source = adapter.open(split, **dataset_settings)
    selection = select(source.labels, limit, per_class)
    if len(selection) == 0:
        raise CompbenchError(f"dataset {dataset!r} split {split!r} selected no images; "
                             "check --limit/--per-class")
    jobs = jobs or os.cpu_count() or 1
    started, clock = now_iso(), time.perf_counter()

    shapes = image_shapes(source, selection)
    factories = {spec.name: registry.codec(spec.name) for spec in specs}
    refused = not_applicable(factories, shapes)
    declared = {name: tuple(m.name for m in factory.metrics) for name, factory in factories.items()}
    columns = record_columns(metric_set.names)
    class_names = getattr(source, "class_names", ()) or adapter.class_names
    sample_positions = [int(selection[i]) for i in _sample_positions(source.labels[selection], SAMPLES_PER_CLASS)]
    data_ref = DataRef(dataset, split, tuple(sorted(dataset_settings.items())))
    config = {"codecs": [spec.label for spec in specs], "dataset": dataset, "dataset_settings": dataset_text,
              "split": split, "limit": limit, "per_class": per_class}
    manifest = run_manifest(
        command=command or " ".join(shlex.quote(a) for a in sys.argv), started=started, registry=registry,
        specs=specs, factories=factories, config=config,
        run={"dataset": dataset, "split": split, "images": len(selection), "limit": limit,
             "per_class": per_class, "jobs": jobs, "timeout": timeout},
        adapter=adapter, source=source, split=split, refused=refused, shapes=shapes, metrics=metric_set,
        rd_metrics=rd_metrics)

    if executor not in EXECUTORS:
        raise CompbenchError(f"unknown --executor {executor!r}; valid: {', '.join(EXECUTORS)}")
    if scheduler and executor != "dask":
        raise CompbenchError("--scheduler needs --executor dask")
    pool_registry = given_registry  # None: each worker builds its own from the entry points
    # Dask connects and checks its workers' versions here, before any folder is made
    with open_executor(executor, jobs, timeout, pool_registry, metric_set, scheduler, registry) as pool:
        if executor == "dask":
            manifest["run"].update(executor="dask", scheduler=scheduler or "local cluster", jobs=pool.slots)
        return _run_units(pool, manifest["run"]["jobs"], specs, data_ref, source, selection, shapes, refused,
                          declared, columns, class_names, sample_positions, config, manifest, dataset, split,
                          out, write, resume, overwrite, progress, clock, anchor, figures, figure_formats,
                          table_format, metric_set, rd_metrics)


def _run_units(pool, jobs, specs, data_ref, source, selection, shapes, refused, declared, columns, class_names,
               sample_positions, config, manifest, dataset, split, out, write, resume, overwrite, progress,
               clock, anchor, figures, figure_formats, table_format, metric_set, rd_metrics) -> RunResult:
    out_dir, writer = None, None
    ordinal_of = {spec.label: i for i, spec in enumerate(specs)}
    if write:
        out_dir = claim_out_dir(out, specs, config, resume, overwrite)
        path = out_dir / "records.csv"
        if resume:
            position_of = {int(source.indices[p]): int(p) for p in selection}
            writer = RecordsFile.resume(path, columns, ordinal_of, position_of)
            write_json(out_dir / "manifest.json", manifest)
        else:  # the manifest first: records are never on disk without the run they belong to
            write_json(out_dir / "manifest.json", manifest)
            writer = RecordsFile.create(path, columns)
    units = plan_units(specs, data_ref, selection, shapes, jobs, done=writer.recorded() if writer else set(),
                       skip={name: set(by_shape) for name, by_shape in refused.items()},
                       samples=sample_positions, extra_metrics=declared)

    # records go to records.csv only; a run that writes no folder keeps them in memory
    blocks: list[tuple[np.ndarray, RecordBlock]] = []
    samples: dict[str, dict[int, np.ndarray]] = {spec.label: {} for spec in specs}
    panels: dict[str, dict[int, dict[str, np.ndarray]]] = {spec.label: {} for spec in specs}
    notes: dict[str, list[str]] = {}
    bar = ProgressBar(sum(len(unit.positions) for unit in units), enabled=progress)

    def keep(result) -> None:
        label = result.unit.spec.label
        samples[label].update(result.samples)
        panels[label].update(result.panels)
        for note in result.notes:
            if note not in notes.setdefault(label, []):
                notes[label].append(note)

    with interrupts_raised(), _stopping(writer, out_dir):
        for result in pool.run(units):
            block = unit_records(result, source, class_names, dataset, split, columns)
            keys = np.column_stack([np.full(len(result.positions), ordinal_of[result.unit.spec.label]),
                                    np.asarray(result.positions)])
            if writer is not None:
                writer.append(block, keys)
            else:
                blocks.append((keys, block))
            keep(result)
            bar.advance(len(keys), result.unit.spec.label)
        bar.close()
        if writer is not None:
            writer.finish()
            records = writer.path
        else:
            records = _in_order(blocks, columns)
            del blocks
        # reconstructions for the figure grids of images recorded by an earlier (resumed) run
        for result in pool.run(_sample_units(specs, data_ref, records, samples, sample_positions, shapes,
                                             source, refused, declared)):
            keep(result)
        pool.release()

        manifest["notes"] = notes
        manifest["seconds"] = round(time.perf_counter() - clock, 3)
        rel = rows_of(selection)
        return finish_run(records, manifest, out_dir, Selection(source, np.asarray(selection), tuple(class_names)),
                          class_names,
                          {label: {rel[p]: image for p, image in by.items()} for label, by in samples.items()},
                          {label: {rel[p]: named for p, named in by.items()} for label, by in panels.items()},
                          anchor, figures, figure_formats, table_format, metric_set, rd_metrics)


def open_executor(executor: str, jobs: int, timeout: float, registry, metrics, scheduler, run_registry):
    """The run's executor (a context manager with ``run(units)``): the local pool, or Dask."""
    if executor == "dask":
        from .run.dask_executor import DaskExecutor, installed_versions

        return DaskExecutor(jobs, timeout, None, metrics, scheduler, expected=installed_versions(run_registry))
    return LocalPool(jobs, timeout, registry, metrics)


def finish_run(records: pd.DataFrame, manifest: dict, out_dir: Path | None, data: ImageSet, class_names,
               samples: dict, panels: dict, anchor: str = DEFAULT_ANCHOR, figures: bool = True,
               figure_formats=("png",), table_format: str = "github", metrics: MetricSet | None = None,
               rd_metrics=DEFAULT_RD_METRICS) -> RunResult:
    """Summary, BD table, figures, manifest and report from a run's records: the end of every
    run, and all that a folder whose records are complete still needs (:func:`finish`)."""
    metrics = metrics or MetricSet.stored(manifest)
    wanted = {int(i) for i in data.indices[sorted({int(p) for by in samples.values() for p in by})]}
    if isinstance(records, Path):  # read a chunk at a time, never whole
        tally = _Tally(wanted)
        summary = summarize_file(records, class_names, metrics, keep=tally.add)
    else:
        tally = _Tally(wanted)
        tally.add(records)
        summary = summarize(records, class_names, metrics)
    manifest = {**manifest, "status": "complete", "errors": tally.errors}
    if counts := tally.metric_errors():
        manifest["metric_errors"] = counts
    result = RunResult(records, summary, out_dir, manifest, data, samples, tuple(class_names), panels,
                       bd_tables(summary, anchor, rd_metrics), tuple(rd_metrics), tally.sample_records())
    if out_dir is not None:
        write_results_folder(result, figures, figure_formats, table_format)
    return result


class _Tally:
    """What the manifest and figures need from a run's records, gathered a chunk at a time:
    failed images, metric_error notes (counted in order of first appearance), and the rows of
    the sample images."""

    def __init__(self, sample_indices: set[int]) -> None:
        self.wanted = np.array(sorted(sample_indices), dtype=np.int64)
        self.errors = 0
        self.notes: dict[str, int] = {}
        self.picked: list[pd.DataFrame] = []

    def add(self, chunk: pd.DataFrame) -> None:
        self.errors += int((chunk["error"] != "").sum())
        for note, count in metric_error_counts(chunk, limit=None).items():
            self.notes[note] = self.notes.get(note, 0) + count
        self.picked.append(chunk[chunk["index"].isin(self.wanted)])

    def metric_errors(self, limit: int = 20) -> dict[str, int]:
        return dict(list(self.notes.items())[:limit])

    def sample_records(self) -> pd.DataFrame | None:
        return pd.concat(self.picked, ignore_index=True) if self.picked else None


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
    source = open_dataset(adapter, split, manifest.get("config", {}).get("dataset_settings", {}))
    position_of = {int(index): p for p, index in enumerate(source.indices)}
    selection = np.array(sorted({position_of[int(i)] for i in records["index"]}), dtype=int)
    class_names = getattr(source, "class_names", ()) or adapter.class_names
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
    rel = rows_of(selection)
    data = source.take(selection) if hasattr(source, "take") else ImageSet(
        source.read(selection), source.labels[selection], source.indices[selection], class_names)
    manifest = {**manifest, "notes": notes}
    manifest.setdefault("run", {"dataset": dataset, "split": split, "images": len(selection)})
    return finish_run(records, manifest, out_dir, data, class_names,
                      {label: {rel[p]: image for p, image in by.items()} for label, by in samples.items()},
                      {label: {rel[p]: named for p, named in by.items()} for label, by in panels.items()},
                      anchor, figures, figure_formats, table_format, MetricSet.stored(manifest),
                      manifest.get("rd_metrics") or DEFAULT_RD_METRICS)


def rows_of(selection) -> dict[int, int]:
    """Position -> row of the selection (Python ints: looping over numpy ints costs 1-2 us each)."""
    return {p: i for i, p in enumerate(np.asarray(selection, dtype=np.int64).tolist())}


def image_shapes(source: ImageSource, positions) -> dict[int, tuple[int, ...]]:
    """Position -> image shape, read once per image (or once, for an array of one shape)."""
    images = getattr(source, "images", None)
    positions = np.asarray(positions, dtype=np.int64).tolist()  # Python ints: a numpy loop costs 1-2 us each
    if isinstance(images, np.ndarray):
        return dict.fromkeys(positions, tuple(images.shape[1:]))
    return {p: tuple(source.shape(p)) for p in positions}


def _sample_units(specs, data_ref, records, samples, sample_positions, shapes, source, refused, declared):
    """Units that encode again the sample images a resumed run did not encode this time (they
    were recorded before, without an error), for the figure grids; not recorded."""
    if all(p in samples[spec.label] for spec in specs for p in sample_positions):
        return []
    if isinstance(records, Path):  # only the rows of the sample images are needed
        wanted = {int(source.indices[p]) for p in sample_positions}
        records = pd.concat([chunk[chunk["index"].isin(wanted)] for chunk in iter_records(records, 50_000)])
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


def _in_order(blocks: list[tuple[np.ndarray, RecordBlock]], columns) -> pd.DataFrame:
    """The records of this run in canonical order (setting, then position), as records.csv."""
    if not blocks:
        return record_frame([], columns)
    blocks = sorted(blocks, key=lambda item: tuple(item[0][0]))  # units in order: usually enough
    keys = np.concatenate([k for k, _ in blocks])
    records = record_frame([b for _, b in blocks], columns)
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


def claim_out_dir(out, specs: list[CodecSpec], config: dict, resume: bool, overwrite: bool) -> Path:
    """This run's folder: a new default one, or ``out`` claimed (a resumed run's command must be
    the one its manifest recorded)."""
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
        "datasets": [entry(r, {"splits": list(r.obj.splits), "classes": list(r.obj.class_names),
                               "params": [p.as_dict() for p in r.obj.params]})
                     for r in sorted(registry.datasets.values(), key=lambda r: r.name)],
        "trainers": [entry(r, {"params": [p.as_dict() for p in r.obj.params]})
                     for r in sorted(registry.trainers.values(), key=lambda r: r.name)],
        "failed_plugins": [{"plugin": name, "error": error} for name, error in sorted(registry.failures.items())],
    }

"""The Python API: everything the CLI does, returning pandas DataFrames. A thin face over
:mod:`compbench.pipeline` (a run: plan, execute, finish), :mod:`compbench.analysis` and
:mod:`compbench.present`."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from .contracts.catalog import describe_plugins
from .contracts.dataset import DatasetAdapter, ImageSource
from .contracts.errors import CompbenchError
from .contracts.params import resolve_settings
from .contracts.registry import Registry, build_registry
from .pipeline import OutputOptions, RunRequest, RunResult, run_plan, run_request
from .pipeline.checks import require_available
from .pipeline.plan import plan_run
from .pipeline.request import DEFAULT_ANCHOR, DEFAULT_CODECS
from .run.executor import EXECUTORS
from .run.interrupts import RunInterrupted
from .run.local_pool import DEFAULT_TIMEOUT, LocalPool
from .store.lock import locked
from .store.manifest import read_manifest

__all__ = ["DEFAULT_ANCHOR", "DEFAULT_CODECS", "DEFAULT_TIMEOUT", "EXECUTORS", "OutputOptions", "RunInterrupted",
           "RunRequest", "RunResult", "describe_plugins", "finish", "load_dataset", "report", "run"]

_REQUEST_FIELDS = {f.name for f in dataclasses.fields(RunRequest)}
_OUTPUT_FIELDS = {f.name for f in dataclasses.fields(OutputOptions)}


def run(request: RunRequest | str | None = None, output: OutputOptions | None = None, *,
        registry: Registry | None = None, **options) -> RunResult:
    """Run codecs over a dataset and write the results folder (unless ``write=False``).

    Give a :class:`RunRequest` (or just its codec specs) and :class:`OutputOptions`, or their
    fields as keywords (``run("jpeg:quality=10..90/20", limit=1000, out="results/mine")``). Everything a
    user can get wrong is checked before any image is coded or any folder made. ``out`` must
    not hold another run unless ``resume`` (continue it: the same command; only the images its
    records.csv lacks are run) or ``overwrite`` (replace it whole). SIGTERM is handled like
    Ctrl-C: :class:`RunInterrupted` with every finished unit on disk. ``registry``: plugins
    registered in-process (handed to the workers), default: the installed ones.
    """
    if isinstance(request, str):
        request, options = None, {**options, "codecs": request}
    request, output = _options(request, output, options)
    return run_request(request, output, registry)


def _options(request: RunRequest | None, output: OutputOptions | None, options: dict):
    unknown = set(options) - _REQUEST_FIELDS - _OUTPUT_FIELDS
    if unknown:
        raise TypeError(f"run() got unexpected option(s) {', '.join(sorted(unknown))}; valid: "
                        f"{', '.join(sorted(_REQUEST_FIELDS | _OUTPUT_FIELDS))}")
    mine = {k: _coerced(k, v) for k, v in options.items() if v is not None}  # None: the default
    request = dataclasses.replace(request or RunRequest(), **{k: v for k, v in mine.items() if k in _REQUEST_FIELDS})
    output = dataclasses.replace(output or OutputOptions(), **{k: v for k, v in mine.items() if k in _OUTPUT_FIELDS})
    return request, output


def _coerced(name: str, value):
    """Comma-separated text for the tuple options (as the command line gives them)."""
    if name in ("metrics_extra", "rd_metrics", "figure_formats") and isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if name == "out" and value is not None:
        return Path(value)
    return value


def finish(out: str | Path, *, reencode_samples: bool = True, registry: Registry | None = None,
           **options) -> RunResult:
    """Finish a results folder from its records.csv: summary, BD tables, figures and report.
    The folder's own command is resumed (its manifest says which), so images its records lack
    are run. The image grids need reconstructions: the few sample images are encoded again
    (``reencode_samples``), else the grids are left out and a note says so in the manifest.
    ``options``: output options (figures, figure_formats, anchor, table_format)."""
    out = Path(out)
    manifest = read_manifest(out / "manifest.json", fix="finish needs the manifest of the run that wrote "
                             "records.csv; run the command again")
    request, output = _options(request_of(manifest), None, {**options, "out": out, "resume": True})
    plan = plan_run(request, output, registry)
    if not reencode_samples:
        return run_plan(plan, None)
    with LocalPool(1, request.timeout, plan.worker_registry, plan.metrics, run_registry=plan.registry) as pool:
        return run_plan(plan, pool)


def report(folder: str | Path, compare_at: str | None = None) -> Path:
    """(Re)write a results folder's report.html from what the folder holds, holding the folder's
    lock while it writes; the report's path. ``compare_at`` ("bpp=0.5"): the matched-rate
    comparison's target (default: the run's own)."""
    from .present.report import read_inputs, write_report
    from .store.results_folder import open_results

    # a path that holds no run is named as such first (and gets no lock file)
    folder = open_results(Path(folder), strict=False).folder
    with locked(folder):
        return write_report(folder, read_inputs(folder, compare_at))


def request_of(manifest: dict) -> RunRequest:
    """The request that wrote a results folder, from its manifest."""
    config = manifest.get("config")
    if not isinstance(config, dict) or not config.get("codecs"):
        raise CompbenchError("the manifest records no command to finish (no config); run the command again")
    dataset = config["dataset"] + "".join(f":{k}={v}" for k, v in (config.get("dataset_settings") or {}).items())
    optional = [name for name, declared in (manifest.get("metrics") or {}).items()
                if isinstance(declared, dict) and declared.get("optional")]
    return RunRequest(codecs=",".join(config["codecs"]), dataset=dataset, split=config.get("split"),
                      limit=config.get("limit"), per_class=config.get("per_class"), metrics_extra=tuple(optional),
                      rd_metrics=tuple(manifest.get("rd_metrics") or ()) or None)


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

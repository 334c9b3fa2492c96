"""A run, one way through: plan (:mod:`.plan`: a frozen plan of checked options, the opened
dataset and the chosen images), execute (:mod:`.execute`: work units streamed into a
:class:`~.sink.RecordsSink` that writes records.csv and gathers the summary and the figure
samples as they pass), finish (:mod:`.finish`: BD tables, figures, tables, the manifest
completed once, the report). :mod:`compbench.api` is the public face over it."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from ..contracts.errors import CompbenchError
from ..contracts.registry import Registry
from ..defaults import ExecutorKind
from ..run.executor import Executor, WorkerSetup, open_executor
from ..run.interrupts import RunInterrupted, interrupts_raised, signal_name
from ..run.progress import phase
from ..store.manifest import ManifestFile, RunStatus
from .execute import execute
from .finish import finish_run
from .output import claim_results_folder
from .plan import RunPlan, plan_run
from .request import OutputOptions, RunRequest
from .result import RunResult
from .sink import RecordsSink

__all__ = ["OutputOptions", "RunPlan", "RunRequest", "RunResult", "run_plan", "run_request"]


def run_request(request: RunRequest, output: OutputOptions, registry: Registry | None = None) -> RunResult:
    """Plan, execute and finish a run."""
    plan = plan_run(request, output, registry)
    # Dask connects and checks its workers' versions here, before any folder is made
    setup = WorkerSetup(metrics=plan.metrics, registry=plan.worker_registry, run_registry=plan.registry,
                        codecs=tuple(dict.fromkeys(spec.name for spec in plan.specs)), preload=plan.preload)
    with open_executor(request.executor, plan.jobs, request.timeout, setup, request.scheduler) as executor:
        return run_plan(plan, executor)


def run_plan(plan: RunPlan, executor: Executor | None) -> RunResult:
    """Execute a plan on an entered executor (None: nothing is coded, the folder's records are
    finished as they are) and finish it."""
    out_dir, lock = claim_results_folder(plan)
    try:
        return _run_in(plan, executor, out_dir)
    finally:
        if lock is not None:
            lock.release()


def _run_in(plan: RunPlan, executor: Executor | None, out_dir: Path | None) -> RunResult:
    facts = {**plan.manifest, "run": {**plan.manifest["run"], **executor_facts(plan, executor)}}
    path = out_dir / "records.csv" if out_dir is not None else None
    if plan.output.resume:  # the records are checked against this run before the manifest is replaced
        sink = RecordsSink(plan, path)
        manifest = ManifestFile(out_dir / "manifest.json", facts)
    else:  # the manifest first: records are never on disk without the run they belong to
        manifest = ManifestFile(out_dir / "manifest.json" if out_dir is not None else None, facts)
        sink = RecordsSink(plan, path)
    with interrupts_raised(), _stopping(sink, manifest, out_dir):
        if executor is not None:
            execute(plan, executor, sink)
        else:
            sink.notes["figures"] = ["image grids left out: the samples were not encoded again"]
        phase("summary", plan.output.progress)
        result = finish_run(plan, manifest, out_dir, sink.finish())
    finish = f"--resume{f' --out {out_dir}' if out_dir else ''}"
    if sink.refused:  # everything else is written: the run can be finished with --resume
        why = next(iter(sink.refused))
        raise CompbenchError(f"{sum(sink.refused.values())} image(s) were not run: {why}; fix that, then "
                             f"finish the run with {finish}")
    if sink.lost:  # not the codecs' doing, and not done: the run is incomplete, not failed
        why = ", ".join(sink.lost)
        raise CompbenchError(f"{sum(sink.lost.values())} image(s) were lost to the infrastructure ({why}), not "
                             f"to the codecs (records.csv: 'lost: ...'); finish the run with {finish}")
    return result


def executor_facts(plan: RunPlan, executor: Executor | None) -> dict:
    if executor is None or plan.request.executor != ExecutorKind.DASK:
        return {}
    return {"executor": "dask", "scheduler": plan.request.scheduler or "local cluster", "jobs": executor.slots}


@contextmanager
def _stopping(sink: RecordsSink, manifest: ManifestFile, out_dir: Path | None):
    """An interrupt becomes :class:`RunInterrupted` once the records on disk are whole, and
    the manifest says the run was interrupted (not that it is still running)."""
    try:
        yield
    except KeyboardInterrupt as exc:
        if isinstance(exc, RunInterrupted):
            raise
        sink.close()
        name = signal_name(exc)
        try:
            manifest.complete(status=RunStatus.INTERRUPTED, interrupted=name, records=sink.rows)
        except CompbenchError:  # a full disk, say: the records are kept all the same
            pass
        raise RunInterrupted(name, sink.rows, out_dir) from None
    finally:
        sink.close()

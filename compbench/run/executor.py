"""The executor contract: what runs a run's work units, wherever they run.

The local pool (:class:`~compbench.run.local_pool.LocalPool`) and Dask
(:class:`~compbench.run.dask_executor.DaskExecutor`) both implement :class:`Executor`, so the
run writes its records, progress and ``--resume`` the same way with either. Per-image faults
are handled on the worker side (:func:`compbench.run.worker.run_piece`); an executor only
yields one result per unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from ..contracts.errors import CompbenchError
from ..defaults import EXECUTORS, ExecutorKind
from .units import UnitResult, WorkUnit

if TYPE_CHECKING:  # annotations only: the registry module imports pluggy and every contract
    from ..contracts.registry import Registry
    from ..metrics import MetricSet


@runtime_checkable
class Executor(Protocol):
    """Runs work units; a context manager (leaving it stops every worker it started)."""

    #: units that run at once (worker processes, or a Dask cluster's threads)
    slots: int

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc) -> None: ...

    def run(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Yield one :class:`UnitResult` per unit with images, as units finish (in any order).
        Leaving the loop early stops what has not run."""
        ...

    def release(self) -> None:
        """No more units will come: let go of workers early (the run writes its results
        meanwhile); :meth:`close` still follows."""
        ...

    def close(self) -> None:
        """Stop every worker now."""
        ...


@dataclass(frozen=True, kw_only=True)
class WorkerSetup:
    """What a run's workers need besides their units."""

    #: the run's metrics (None: each worker builds core + plugins + the codec's)
    metrics: MetricSet | None = None
    #: plugins registered in this process, handed to local workers (None: they load the entry points)
    registry: Registry | None = None
    #: the run's plugins and codecs: what Dask workers' versions are checked against, and what
    #: local workers forked from the run inherit instead of loading the entry points again
    run_registry: Registry | None = None
    codecs: tuple[str, ...] = ()
    #: heavy modules local workers start with (:func:`~compbench.run.local_pool.warm_fork_server`)
    preload: tuple[str, ...] = ()


def open_executor(kind: str, jobs: int, timeout: float, setup: WorkerSetup, scheduler: str | None = None) -> Executor:
    """The run's executor, not yet entered: the local pool of ``jobs`` workers, or Dask (a
    local cluster of ``jobs`` workers, or the one whose scheduler is at ``scheduler``)."""
    if kind not in EXECUTORS:
        raise CompbenchError(f"unknown --executor {kind!r}; valid: {', '.join(EXECUTORS)}")
    if scheduler and kind != ExecutorKind.DASK:
        raise CompbenchError("--scheduler needs --executor dask")
    if kind == ExecutorKind.DASK:
        from .dask_executor import DaskExecutor, installed_versions

        return DaskExecutor(jobs, timeout, None, setup.metrics, scheduler,
                            expected=installed_versions(setup.run_registry, setup.codecs))
    from .local_pool import LocalPool

    return LocalPool(jobs, timeout, setup.registry, setup.metrics, preload=setup.preload, run_registry=setup.run_registry)

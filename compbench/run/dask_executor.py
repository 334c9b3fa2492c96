"""The Dask executor: work units on a Dask cluster, with the local pool's fault isolation.

``DaskExecutor`` implements :class:`compbench.run.executor.Executor`, as the local pool does, so the
run writes its records, progress and ``--resume`` exactly as with the local pool.

Each Dask task runs its unit through a ``LocalPool(1)`` kept by the Dask worker thread that runs
it: the codec works in a child process of the Dask worker, so a segfault, an abort or a hang
costs the image (recorded with the same message as locally) and never the Dask worker. The child
is started from a fork server, not forked from the Dask worker: a Dask worker is multi-threaded
(its event loop runs beside the task), and a forked child could inherit a lock that thread held.
The fork server is started once per Dask worker process; each child costs a fork from it (once
per Dask worker thread, and once per crash), not per unit.

The local cluster (``--executor dask`` without ``--scheduler``) runs its Dask workers as threads
of this process: the isolation is the children's, so separate Dask worker processes would only
add their start-up (about a second each) and the serialization of every unit and result.

Dask never retries a unit: tasks are submitted with ``retries=0``, a local cluster's scheduler
allows no failures, and a unit whose Dask worker is lost is recorded as failed on its images,
naming the error. Before any unit is sent, every worker reports its compbench version and plugin
distributions; a mismatch with this process is refused, naming the package.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import uuid
from collections.abc import Iterable, Iterator

from ..contracts.errors import CompbenchError
from .local_pool import DEFAULT_TIMEOUT, LocalPool, threads_per_worker
from .units import UnitResult, WorkUnit
from .worker import one_line

INSTALL_HINT = "pip install 'compbench[dask]' -c constraints.txt"
#: the version the registry gives a plugin registered in-process (no distribution)
IN_PROCESS = "(registered in process)"
#: seconds to reach a scheduler given with --scheduler
CONNECT_SECONDS = 30


def import_distributed():
    try:
        import distributed
    except ImportError:
        raise CompbenchError(f"--executor dask needs Dask distributed, which is not installed; "
                             f"install it with: {INSTALL_HINT}") from None
    return distributed


class DaskExecutor:
    """Runs work units on a Dask cluster: a local one of ``jobs`` single-threaded worker
    processes, or the one whose scheduler is at ``scheduler`` (``tcp://HOST:PORT``)."""

    def __init__(self, jobs: int = 1, timeout: float = DEFAULT_TIMEOUT, registry=None, metrics=None,
                 scheduler: str | None = None, expected: dict | None = None) -> None:
        self.jobs, self.timeout, self.metrics, self.scheduler = max(1, jobs), float(timeout), metrics, scheduler
        #: what every worker must have: {"compbench": version, "plugins": ["dist==version", ...]}
        self.expected = expected if expected is not None else installed_versions(registry)
        self.token = uuid.uuid4().hex  # this run's pools on the workers
        self.client = None
        self._cluster = None
        self._submitted = 0  # task keys stay unique across the run's calls to run()

    # -- lifetime --------------------------------------------------------------------------------

    def __enter__(self) -> DaskExecutor:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        """Connect (or start a local cluster) and check every worker's versions."""
        if self.client is not None:
            return
        distributed = import_distributed()
        import dask

        try:
            if self.scheduler:
                try:
                    self.client = distributed.Client(self.scheduler, timeout=CONNECT_SECONDS,
                                                     set_as_default=False)
                except (OSError, TimeoutError) as exc:
                    raise CompbenchError(f"cannot reach the Dask scheduler at {self.scheduler} ({one_line(exc)}); "
                                         "start one (dask scheduler) or check --scheduler") from None
            else:
                # the scheduler runs in this process: it must let a lost worker fail the task.
                # dashboard_address ":0": its HTTP server on a free port (None still takes 8787,
                # and a second run at the same time printed a warning that it was in use)
                with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                    self._cluster = distributed.LocalCluster(
                        n_workers=self.jobs, threads_per_worker=1, processes=False, dashboard_address=":0",
                        silence_logs=logging.ERROR)
                self.client = distributed.Client(self._cluster, set_as_default=False)
            self.check_workers()
        except BaseException:
            self.close()
            raise

    def release(self) -> None:
        """The run needs no more units (the local pool's early goodbye): nothing to do here,
        :meth:`close` does it all."""

    def close(self) -> None:
        """Stop this run's pools on the workers (a shared cluster keeps running), then
        disconnect; a local cluster is shut down."""
        client, self.client = self.client, None
        if client is not None:
            try:
                # not on a lost scheduler: the call would wait out the client's reconnecting
                # (CONNECT_SECONDS) before the run could report what it lost
                if self._cluster is None and client.status == "running":
                    client.run(close_worker_pools, self.token)
            except Exception:
                pass
            client.close()
        cluster, self._cluster = self._cluster, None
        if cluster is not None:
            cluster.close()
            close_worker_pools(self.token)  # the local cluster's workers were threads of this process

    # -- checks ----------------------------------------------------------------------------------

    @property
    def slots(self) -> int:
        """Units that run at once: every worker thread of the cluster."""
        if self.client is None:
            return self.jobs
        return max(1, sum(self.client.nthreads().values()))

    def check_workers(self) -> None:
        """Refuse to run on a cluster without workers, or where a worker's compbench or plugin
        versions differ from this process's."""
        reports = self.client.run(worker_versions, tuple(self.expected.get("codec_libraries", {})))
        if not reports:
            raise CompbenchError(f"the Dask cluster at {self.scheduler} has no workers; start some "
                                 f"(dask worker {self.scheduler})")
        for address, found in sorted(reports.items()):
            problem = version_mismatch(self.expected, found)
            if problem:
                raise CompbenchError(f"Dask worker {address}: {problem}; install the same versions on every "
                                     "worker as here")

    # -- running ---------------------------------------------------------------------------------

    def run(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Yield one result per unit, as units finish (in any order)."""
        distributed = import_distributed()
        self.start()
        units = [unit for unit in units if unit.positions]
        if not units:
            return
        metrics = self.client.scatter(self.metrics, broadcast=True) if self.metrics is not None else None
        expected = self.client.scatter(self.expected, broadcast=True)
        futures = {}
        for unit in units:
            self._submitted += 1
            future = self.client.submit(run_unit, unit, self.timeout, metrics, self.token, self._threads(), expected,
                                        retries=0,
                                        pure=False, key=f"compbench-{self.token}-{self._submitted}",
                                        priority=-self._submitted)  # in plan order, as locally
            futures[future] = unit
        try:
            for future in distributed.as_completed(list(futures), loop=self.client.loop):
                yield self._result(future, futures.pop(future))
        finally:
            if futures:  # left early (an interrupt): take back what has not run
                self.client.cancel(list(futures))

    def _threads(self) -> int | None:
        """Threads for each unit's codec: the cores shared by the local cluster's workers, or
        None on a cluster of its own (its workers' OMP_NUM_THREADS, set by Dask, says)."""
        return threads_per_worker(self.jobs) if self._cluster is not None else None

    def _result(self, future, unit: WorkUnit) -> UnitResult:
        try:
            return future.result()
        except Exception as exc:  # the cluster failed the unit (never a codec fault: that is a result)
            return UnitResult.lost(unit, unit.positions, self._what_was_lost(exc))

    def _what_was_lost(self, exc: Exception) -> str:
        """Which part of the cluster failed the unit, named as it is."""
        text = one_line(exc)
        name = type(exc).__name__
        if name == "KilledWorker":
            return f"Dask worker lost ({text})"
        if "scheduler" in text.lower() or self.client is None or self.client.status != "running":
            return f"Dask scheduler lost ({text})"
        if name in ("CommClosedError", "StreamClosedError") or isinstance(exc, (OSError, TimeoutError)):
            return f"connection to the Dask cluster dropped ({text})"
        return f"Dask task failed ({text})"


# -- what runs on the Dask workers ------------------------------------------------------------------

_THREAD = threading.local()


def run_unit(unit: WorkUnit, timeout: float, metrics, token: str, threads: int | None = None,
             expected: dict | None = None) -> UnitResult:
    """A Dask task: the unit through this worker thread's isolating pool, once this worker's
    versions are known to be the run's (checked where the work runs, once per worker and run:
    a worker may join the cluster after the run began)."""
    problem = _mismatch_here(token, expected) if expected is not None else None
    if problem:
        return UnitResult(unit, unit.positions, {}, refused=problem)
    try:
        pool = _thread_pool(token, timeout, metrics, threads)
        results = list(pool.run([unit]))
        return results[0]
    except Exception as exc:  # a bug here costs the unit, as in a local worker
        return UnitResult.failed(unit, unit.positions, f"internal error: {one_line(exc)}")


def _thread_pool(token: str, timeout: float, metrics, threads: int | None = None) -> LocalPool:
    """This thread's ``LocalPool(1)`` for the run ``token`` (its worker kept between units)."""
    held = getattr(_THREAD, "held", None)
    if held is not None and held[0] == token:
        return held[1]
    if held is not None:
        held[1].close()
    # A Dask worker (started by a nanny) is a daemonic process, which multiprocessing forbids to
    # start children; the pool's children die with it anyway (PR_SET_PDEATHSIG, and killed when
    # the pool closes), which is all the flag would have ensured.
    multiprocessing.current_process()._config["daemon"] = False
    # the cores are shared by the Dask worker's threads (Dask sets OMP_NUM_THREADS for them)
    threads = threads or int(os.environ.get("OMP_NUM_THREADS") or 0) or None
    pool = LocalPool(1, timeout, None, metrics, start_method="forkserver", threads=threads)
    _THREAD.held = (token, pool)
    _POOLS[token] = _POOLS.get(token, []) + [pool]
    return pool


#: run token -> pools of this process (one per Dask worker thread), closed when the run ends
_POOLS: dict[str, list[LocalPool]] = {}


def close_worker_pools(token: str) -> None:
    for pool in _POOLS.pop(token, []):
        pool.close()


def installed_versions(registry=None, codecs=()) -> dict:
    """compbench's version, the plugin distributions (``name==version``) of this process, and
    the libraries of these codecs (``CodecFactory.library_versions``)."""
    from .._version import __version__
    from ..contracts.registry import build_registry

    registry = registry or build_registry()
    libraries = {name: registry.codec(name).library_versions() for name in codecs}
    return {"compbench": __version__, "plugins": registry.requirements(), "codec_libraries": libraries}


def worker_versions(codecs=()) -> dict:
    return installed_versions(codecs=codecs)


#: (run token) -> why this worker process may not run that run's units ("" when it may)
_CHECKED: dict[str, str] = {}


def _mismatch_here(token: str, expected: dict) -> str:
    if token not in _CHECKED:
        try:
            found = worker_versions(tuple(expected.get("codec_libraries", {})))
            problem = version_mismatch(expected, found) or ""
        except Exception as exc:  # a plugin that does not load here is a mismatch too
            problem = f"the plugins do not load ({one_line(exc)})"
        _CHECKED[token] = f"Dask worker {_address()}: {problem}" if problem else ""
    return _CHECKED[token]


def _address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except Exception:
        return "(unknown address)"


def version_mismatch(expected: dict, found: dict) -> str | None:
    """The first package whose version differs (or is missing there), in one phrase, or None."""
    if found.get("compbench") != expected.get("compbench"):
        return f"compbench {found.get('compbench')} there, {expected.get('compbench')} here"
    theirs = dict(line.split("==", 1) for line in found.get("plugins", ()))
    for line in expected.get("plugins", ()):
        name, version = line.split("==", 1)
        if version == IN_PROCESS:
            return f"plugin {name} is registered in this process only; Dask workers load installed packages"
        if name not in theirs:
            return f"plugin package {name} is not installed there ({version} here)"
        if theirs[name] != version:
            return f"plugin package {name} {theirs[name]} there, {version} here"
    found_libraries = found.get("codec_libraries") or {}
    for codec, libraries in (expected.get("codec_libraries") or {}).items():
        for library, version in libraries.items():
            there = (found_libraries.get(codec) or {}).get(library)
            if there != version:
                return f"codec {codec}'s {library} {there or 'absent'} there, {version} here"
    return None

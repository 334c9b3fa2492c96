"""The local executor: work units on a small pool of worker processes (:mod:`.worker_process`),
isolated from the run.

Each worker posts what it is about to do (which stage, on which image when it is on one) in a
small shared-memory board the pool reads only when it needs to (no message, no wake-up per
step), so when a worker dies or overruns its time the pool knows what it cost:

- a batch call (``encode_batch`` over a unit) that crashes or overruns is redone image by image
  in a fresh worker, which pins the culprit;
- a worker that dies on one image (segfault, abort, OOM kill) costs that image, recorded as
  "worker killed by signal 11 (SIGSEGV) while encoding"; a fresh worker carries on with the rest;
- an image that takes longer than ``timeout`` seconds is recorded as timed out, the same way.

Time limits: one image gets ``timeout`` seconds per stage; a batch of n gets n x timeout, but
once a setting's pace is known (from its finished parts) a batch that takes more than ten times
that pace (plus ``timeout``) is redone image by image, so a hang in a large batch costs about
``timeout``, not n x timeout. The first images of each setting run one by one (a probe) and
the setting's batches wait for it, so no batch runs without a known pace. Opening the dataset
and creating the codec get ``max(timeout, SETUP_SECONDS)``. The pool looks at the boards at
least every ``LOOK_SECONDS``.

Workers die with the run: each asks the kernel for SIGKILL when its parent dies (Linux
``PR_SET_PDEATHSIG``), leaves if its parent has already changed, runs in its own process group
(a terminal's Ctrl-C goes to the run, which stops them) and is killed with its group when the
run ends, however it ends. ``--jobs 1`` uses one worker too, so a crash never takes the run.
Workers are forked, or started from a fork server when this process runs other threads
(:func:`start_method_for`).

It implements :class:`compbench.run.executor.Executor`, as the Dask executor does.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator

import numpy as np

from ..defaults import DEFAULT_TIMEOUT
from . import server_ready
from .machine import usable_cores
from .units import UnitResult, WorkUnit
from .worker import Stage
from .worker_process import Task, Worker, describe_exit

#: at least this long to open the dataset and create a codec (loading a model takes a while)
SETUP_SECONDS = 120.0


#: images of each setting's first unit run one by one to learn the setting's pace
PROBE_IMAGES = 8


#: a batch may take this many times the setting's known pace (plus the timeout) before it is
#: redone image by image
PACE_SLACK = 10.0


#: a setting whose worker dies (or overruns) on this many images in a row, with none coming
#: through between, is given up: its other images are recorded as not run, with the reason
MAX_STRIKES = 10


#: the longest the pool sleeps between looks at its workers' boards: a worker moving from a
#: stage with a long limit (setup) to one with a short one (an image) is noticed this soon
LOOK_SECONDS = 0.25




class LocalPool:
    """Runs work units on ``jobs`` worker processes; see the module docstring.

    ``registry`` is handed to the workers for plugins registered in-process, as tests and
    benchmarks do; by default a forked worker inherits ``run_registry`` (the plugins this
    process loaded) and one started by the fork server builds its own. ``start_method``: see
    :func:`start_method_for`.
    """

    def __init__(self, jobs: int = 1, timeout: float = DEFAULT_TIMEOUT, registry=None, metrics=None,
                 start_method: str | None = None, threads: int | None = None, preload: tuple[str, ...] = (),
                 run_registry=None) -> None:
        self.jobs, self.timeout, self.registry = max(1, jobs), float(timeout), registry
        self._run_registry = run_registry
        self.metrics = metrics  # the run's MetricSet (None: each worker builds core + plugins + codec's)
        self.start_method = start_method or start_method_for(registry, preload)
        self._preload = preload
        self._context = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver" and preload:  # the server imports what every worker runs, once
            warm_fork_server(preload)
        elif self.start_method == "forkserver":
            self._context.set_forkserver_preload(list(SERVER_PRELOAD))
        # units whose codec preloads nothing need no server: while it imports PyTorch, they run
        # on workers forked from this process (in milliseconds), when forking from it is safe
        self._plain_context = None
        self._server_started = False
        if start_method is None and self.start_method == "forkserver" and start_method_for(registry) == "fork":
            self._plain_context = multiprocessing.get_context("fork")
        self._workers: list[Worker] = []
        self._queue: deque[Task] = deque()
        self._parts: dict[int, list[UnitResult]] = {}
        self._left: dict[int, int] = {}
        self._finished: list[UnitResult] = []
        self._broken: dict = {}  # spec -> why its codec cannot be set up
        self._pace: dict = {}  # spec -> seconds per image: the highest mean of its finished parts
        self._strikes: dict = {}  # spec -> images in a row that killed or overran a worker
        self._threads = str(threads or threads_per_worker(self.jobs))
        self._probed: set = set()  # specs whose pace is being learned (a pool kept across runs probes once)
        self._probing: set = set()  # specs whose probe has not come back: their batches wait

    @property
    def slots(self) -> int:
        """Units that run at once: one per worker process."""
        return self.jobs

    def __enter__(self) -> LocalPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, units: Iterable[WorkUnit]) -> Iterator[UnitResult]:
        """Yield one result per unit, as units finish (in any order). The pool can run again
        after, on the same workers; :meth:`close` (or leaving a ``with`` block) stops them, as
        does leaving the loop early or an error."""
        for unit in units:
            if not unit.positions:
                continue
            self._parts[unit.ordinal], self._left[unit.ordinal] = [], len(unit.positions)
            head = unit.positions
            if unit.spec not in self._probed and len(head) > 1:
                self._probed.add(unit.spec)
                self._probing.add(unit.spec)
                head = unit.positions[:PROBE_IMAGES]
                self._queue.append(Task(unit, head, True))
                head = unit.positions[len(head):]
            if head:
                self._queue.append(Task(unit, head, False))
        try:
            while self._queue or self._busy():
                self._dispatch()
                self._wait()
                self._dispatch()  # hand out work before the caller spends time on the results
                yield from self._take_finished()
        except BaseException:  # also GeneratorExit: a caller that stops early leaves no workers
            self.close()
            raise

    def release(self) -> None:
        """The run needs no more units: kill the workers without waiting for them, so that the
        kernel frees their memory (milliseconds each) while the run writes its results;
        :meth:`close` reaps them."""
        for worker in self._workers:
            worker.kill(wait=False)

    def close(self) -> None:
        """Stop every worker now (they hold nothing that is not in a result already); a fork
        server started for this run's preloaded modules is stopped and reaped too, so that the
        run's CPU time (``getrusage``, ``time``) counts its workers'."""
        for worker in self._workers:
            worker.kill(wait=False)
        for worker in self._workers:
            worker.kill()
        self._workers.clear()
        if self._preload and self.start_method == "forkserver":
            stop_fork_server()

    # -- scheduling ------------------------------------------------------------------------------

    def _busy(self) -> list[Worker]:
        return [w for w in self._workers if w.tasks]

    def _take_finished(self) -> Iterator[UnitResult]:
        while self._finished:
            yield self._finished.pop(0)

    def _dispatch(self) -> None:
        """Give each worker a task, and a second one while the queue is long (so a worker
        never waits for the run to handle its last result). Workers that start at once are
        started first: a worker from a fork server that is still importing PyTorch waits for
        it, and so does this process."""
        for may_wait in (False, True):
            while self._queue and self._place_one(may_wait):
                pass

    def _place_one(self, may_wait: bool) -> bool:
        """Hand the first task that has a worker to it; False when none has."""
        loading = self._server_loading()  # once a pass, not once a task: it looks at the disk
        for index, task in enumerate(self._queue):
            if task.unit.spec in self._broken:
                del self._queue[index]
                self._probing.discard(task.unit.spec)
                self._settle(UnitResult.failed(task.unit, task.positions, self._broken[task.unit.spec]))
                return True
            # a batch waits for its setting's probe: without a pace its time limit would be n x timeout
            if not task.single and task.unit.spec in self._probing:
                continue
            worker = self._worker_for(task, may_wait, loading)
            if worker is None:
                continue
            del self._queue[index]
            if not worker.give(task):  # it died between tasks: a fresh one takes its tasks
                self._workers.remove(worker)
                worker.kill()
                self._queue.extendleft(reversed([*worker.tasks, task]))
            return True
        return False

    def _worker_for(self, task: Task, may_wait: bool, loading: bool) -> Worker | None:
        """An idle worker that can run ``task``; else a new one, if there is room (or an idle
        worker that cannot run it nor anything queued gives up its place); else a second task
        for a worker with one, while the queue is long; else None. ``loading``: see
        :meth:`_server_loading`."""
        able = [w for w in self._workers if self._can_run(w, task)]
        if idle := [w for w in able if not w.tasks]:
            return idle[0]
        plain = self._plain_context is not None and not task.unit.preload
        if not plain and (not may_wait or (loading and self._busy())):
            return None  # the server's worker would keep this process waiting while others need it
        # while the server imports, it takes a core: the workers beside it leave it one, so
        # that they code at full speed (their codecs' times are measured)
        room = self.jobs - 1 if plain and loading and self.jobs > 1 else self.jobs
        if len(self._workers) >= room:
            useless = [w for w in self._workers if not w.tasks and not any(self._can_run(w, t) for t in self._queue)]
            if useless:
                self._workers.remove(useless[0])
                useless[0].kill()
        if len(self._workers) < room:
            return self._start_worker(plain)
        if len(self._queue) >= self.jobs and (spare := [w for w in able if len(w.tasks) < 2]):
            return spare[0]
        return None

    def _server_loading(self) -> bool:
        """Queued units wait for the fork server, which is still importing their preloads (no
        worker of it has started yet, and it has not marked itself ready)."""
        if self._plain_context is None or self._server_started or not any(t.unit.preload for t in self._queue):
            return False
        self._server_started = fork_server_ready()
        return not self._server_started

    def _can_run(self, worker: Worker, task: Task) -> bool:
        return not (worker.plain and task.unit.preload)

    def _start_worker(self, plain: bool = False) -> Worker:
        context = self._plain_context if plain else self._context
        registry = self.registry
        if registry is None and context.get_start_method() == "fork":
            # a forked worker has this process's plugins already: no entry-point scan (~10 ms)
            registry = self._run_registry
        worker = Worker(context, registry, self._threads, self.metrics, plain=plain)
        self._server_started = self._server_started or not plain
        self._workers.append(worker)
        return worker

    def _wait(self) -> None:
        busy = self._busy()
        if not busy:
            return
        now = time.monotonic()
        wait_s = min(LOOK_SECONDS, max(0.0, min(self._deadline(w) for w in busy) - now))
        handles = [w.conn for w in busy] + [w.process.sentinel for w in busy]
        ready = set(multiprocessing.connection.wait(handles, timeout=wait_s))
        for worker in busy:
            if worker.conn in ready or worker.process.sentinel in ready:
                self._receive(worker)
        now = time.monotonic()
        for worker in self._busy():
            if now > self._deadline(worker):
                self._lost(worker, f"timed out after {self._limit(worker):g} s")

    def _receive(self, worker: Worker) -> None:
        try:
            while worker.tasks and worker.conn.poll():
                result = worker.conn.recv()
                task = worker.finished()
                self._probing.discard(task.unit.spec)
                self._learn_pace(task, result)
                if len(result.errors) < len(result.positions):
                    self._strikes[task.unit.spec] = 0
                self._settle(result)
        except (EOFError, OSError):
            self._lost(worker, None)
            return
        if worker.tasks and not worker.process.is_alive():
            self._lost(worker, None)

    def _lost(self, worker: Worker, reason: str | None) -> None:
        """A worker died or overran: replace it and charge what it was doing."""
        worker.kill()
        self._workers.remove(worker)
        if reason is None:
            reason = describe_exit(worker.process.exitcode)
        if not worker.tasks:
            return
        stage = worker.stage
        task = worker.tasks.popleft()
        if task.single:  # a probe that was lost lets its setting's batches go (on n x timeout)
            self._probing.discard(task.unit.spec)
        self._queue.extendleft(reversed(worker.tasks))  # sent but not started: run elsewhere
        message = f"{reason} while {stage.what}"
        if stage.what == Stage.STARTING and task.retries == 0:  # not its fault: nothing of it ran yet
            self._queue.appendleft(Task(task.unit, task.positions, task.single, retries=1))
        elif stage.what == Stage.STARTING:  # twice before it began: the machine's doing, not the codec's
            self._settle(UnitResult.lost(task.unit, task.positions, message))
        elif stage.what.setup:
            if stage.what == Stage.CREATING:
                self._broken[task.unit.spec] = message
            self._settle(UnitResult.failed(task.unit, task.positions, message))
        elif stage.position is None:  # a batch call: redo it image by image to find the culprit
            self._queue.appendleft(Task(task.unit, task.positions, True))
        else:
            cut = task.positions.index(stage.position)
            after, before = task.positions[cut + 1 :], task.positions[:cut]
            self._settle(UnitResult.failed(task.unit, (stage.position,), message))
            spec = task.unit.spec
            self._strikes[spec] = self._strikes.get(spec, 0) + 1
            if self._strikes[spec] >= MAX_STRIKES:
                self._broken[spec] = f"not run: {MAX_STRIKES} images in a row cost a worker (the last: {message})"
            if after:
                self._queue.appendleft(Task(task.unit, after, True))
            if before:  # these came through on their own: back to one batch call
                self._queue.appendleft(Task(task.unit, before, False))

    def _settle(self, result: UnitResult) -> None:
        ordinal = result.unit.ordinal
        if result.setup_error:
            self._broken[result.unit.spec] = result.setup_error
        self._parts[ordinal].append(result)
        self._left[ordinal] -= len(result.positions)
        if self._left[ordinal] == 0:
            self._finished.append(UnitResult.merge(result.unit, self._parts.pop(ordinal)))

    # -- time limits -----------------------------------------------------------------------------

    def _learn_pace(self, task: Task, result: UnitResult) -> None:
        per_image = result.metrics["encode_s"] + np.nan_to_num(result.metrics["decode_s"])
        if np.isfinite(per_image).any():
            pace = float(np.nanmean(per_image))  # the mean: a first call's warm-up is one image's cost
            self._pace[task.unit.spec] = max(pace, self._pace.get(task.unit.spec, 0.0))

    def _limit(self, worker: Worker) -> float:
        stage = worker.stage
        if stage.what.setup:
            return max(self.timeout, SETUP_SECONDS)
        if stage.count <= 1:
            return self.timeout
        limit = self.timeout * stage.count
        pace = self._pace.get(worker.tasks[0].unit.spec)
        return limit if pace is None else min(limit, self.timeout + PACE_SLACK * pace * stage.count)

    def _deadline(self, worker: Worker) -> float:
        return worker.stage.started + self._limit(worker)


def threads_per_worker(jobs: int) -> int:
    """Threads each of ``jobs`` workers on this machine may use, so that together they fill
    the cores it may use once (numerical libraries start one thread per core of the machine by
    default)."""
    return max(1, usable_cores() // max(1, jobs))


#: what a fork server imports for every worker it starts
SERVER_PRELOAD = ("compbench.run.worker_process",)


def preload_of(factories) -> tuple[str, ...]:
    """The heavy modules a run's codec factories declare (``CodecFactory.preload``), once each."""
    return tuple(dict.fromkeys(module for factory in factories for module in factory.preload))


def warm_fork_server(preload: tuple[str, ...]) -> None:
    """Start the fork server now, importing ``preload`` (the heavy modules a run's codecs
    declare: PyTorch) once for all the run's workers, while this process goes on planning the
    run: its workers then start with them imported (once per run, not once per worker). The
    command line calls it as soon as the codec names are checked, the plan again (a no-op
    then)."""
    from multiprocessing import forkserver

    if not preload:
        return
    multiprocessing.get_context("forkserver").set_forkserver_preload([*SERVER_PRELOAD, *preload, server_ready.__name__])
    if getattr(forkserver._forkserver, "_forkserver_pid", None) is not None:
        return  # already running (ensure_running would only check it is alive)
    os.environ[server_ready.IN_SERVER] = str(os.getpid())  # the server starts with this environment
    try:
        forkserver.ensure_running()
    finally:
        del os.environ[server_ready.IN_SERVER]


def fork_server_ready() -> bool:
    """The fork server has imported its preloads: it forks a worker at once now."""
    from multiprocessing import forkserver

    return server_ready.is_ready(getattr(forkserver._forkserver, "_forkserver_pid", None))


def stop_fork_server() -> None:
    """Stop the fork server and wait for it (it has reaped the workers it started, so their
    CPU time counts in this process's). It is killed, not asked to exit: an interpreter that
    imported PyTorch takes about half a second to shut down, and it holds nothing to save.
    Python has no public call for it; a server that cannot be stopped so ends with this
    process anyway."""
    from multiprocessing import forkserver

    server = forkserver._forkserver
    try:
        if getattr(server, "_forkserver_pid", None) is not None:
            os.kill(server._forkserver_pid, signal.SIGKILL)
            server_ready.forget(server._forkserver_pid)
        server._stop()
    except (AttributeError, OSError):
        pass


def start_method_for(registry=None, preload: tuple[str, ...] = ()) -> str:
    """How to start workers from this process: ``fork``, unless this process runs other Python
    threads or has imported PyTorch, or the run's codecs preload heavy modules (then a fork
    server imports them once, see :func:`warm_fork_server`): then ``forkserver``.

    fork starts a worker in milliseconds, but it copies only the calling thread: a lock another
    thread held stays held in the child forever. A process that has run PyTorch on several
    threads is the usual case (GNU OpenMP's thread pool: the child's first parallel tensor
    operation waits at a team barrier for threads that do not exist); a notebook's or a web
    server's threads are another. Then workers are forked from a fresh single-threaded server
    process instead. (The BLAS thread numpy starts is fork-safe: it is not counted.) The
    ``compbench`` command imports neither, so it forks. A registry of plugins registered
    in-process (tests, benchmarks) reaches workers only by fork, so it keeps fork.
    """
    if registry is not None or (threading.active_count() <= 1 and "torch" not in sys.modules and not preload):
        return "fork"
    return "forkserver"



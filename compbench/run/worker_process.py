"""Worker processes of the local pool: starting one, the stage board it posts its steps on,
its main loop, and making sure it never outlives the run.

Workers die with the run: each asks the kernel for SIGKILL when its parent dies (Linux
``PR_SET_PDEATHSIG``), leaves if its parent has already changed, runs in its own process group
(a terminal's Ctrl-C goes to the run, which stops them) and is killed with its group when the
run ends, however it ends.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import sys
import time
import types
from collections import deque
from dataclasses import dataclass

from .allocator import keep_freed_memory
from .machine import use_threads
from .units import UnitResult, WorkUnit
from .worker import Stage, WorkerState, one_line, run_piece

#: the stages in a fixed order: the board posts a stage by its number
_STAGES = tuple(Stage)

@dataclass
class Task:
    """Positions of a unit given to one worker; ``single``: one codec call per image."""

    unit: WorkUnit
    positions: tuple[int, ...]
    single: bool
    #: times it was lost before it began (a worker killed between tasks): tried again once
    retries: int = 0


@dataclass
class Posted:
    """What a worker posted last: the stage, the image it is on (when it is on one), how many
    images the step takes, and when it began."""

    what: Stage
    position: int | None  # the image it is on, when it is on one
    count: int
    started: float


class Worker:
    """One worker process, the pipe to it (tasks out, results back) and its stage board."""

    def __init__(self, context, registry, threads: str, metrics=None, plain: bool = False) -> None:
        #: forked from the run without the fork server's preloaded modules: it runs only units
        #: whose codec preloads nothing
        self.plain = plain
        self.conn, child = context.Pipe()
        self.board = StageBoard(context)
        # a forkserver's child has the server as its parent, which dies with this process
        method = context.get_start_method()
        parent = None if method == "forkserver" else os.getpid()
        self.process = context.Process(target=worker_main,
                                       args=(child, self.board, registry, parent, threads, metrics),
                                       name="compbench-worker")
        with _main_not_rerun() if method != "fork" else contextlib.nullcontext():
            self.process.start()
        child.close()
        _LIVE.add(self)
        #: tasks sent, in order; the first is the one it is on
        self.tasks: deque[Task] = deque()
        self._done = 0  # results received: the number of the task it is on
        self._head_since = time.monotonic()

    def give(self, task: Task) -> bool:
        try:
            self.conn.send((task.unit, task.positions, task.single))
        except OSError:
            return False
        self.tasks.append(task)
        if len(self.tasks) == 1:
            self._head_since = time.monotonic()
        return True

    def finished(self) -> Task:
        """The first task's result came: the next one (if any) begins now."""
        self._done += 1
        self._head_since = time.monotonic()
        return self.tasks.popleft()

    @property
    def stage(self) -> Posted:
        """What it is doing on its first task: from the board, or "starting" until it posts."""
        posted = self.board.read()
        if posted is not None and posted[0] == self._done:
            return posted[1]
        return Posted(Stage.STARTING, None, len(self.tasks[0].positions) if self.tasks else 0, self._head_since)

    def kill(self, wait: bool = True) -> None:
        pid = self.process.pid
        for kill in (os.killpg, os.kill):  # the group takes any helper process a codec started
            try:
                kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if not wait:
            return
        self.process.join(5)
        self.conn.close()
        _LIVE.discard(self)


#: workers not yet killed, for the exit handler
_LIVE: set[Worker] = set()


@atexit.register
def _kill_live_workers() -> None:  # registered after multiprocessing's, so it runs before it
    for worker in list(_LIVE):
        worker.kill()


#: reads of a worker's stage board before giving up on a whole post (each after a yield)
READ_TRIES = 100


class StageBoard:
    """A worker's current stage in shared memory: task number, stage, image, count, start time
    (``time.monotonic``, one clock for all processes). Written by the worker at each step, read
    by the pool when a deadline comes or the worker dies; a sequence number (odd while writing)
    keeps a read from mixing two posts."""

    def __init__(self, context) -> None:
        self.slots = context.RawArray("d", 6)

    def post(self, task: int, stage: Stage, position: int | None, count: int) -> None:
        slots = self.slots
        slots[0] += 1
        slots[1], slots[2] = task, _STAGES.index(stage)
        slots[3], slots[4], slots[5] = -1 if position is None else position, count, time.monotonic()
        slots[0] += 1

    def read(self) -> tuple[int, Posted] | None:
        """The last whole post, or None: none yet, or the worker was caught mid-post every time
        (the caller then goes by when the task began). A torn read would mix two posts: the
        first post's stage with the board's initial start time 0 made a worker that had just
        begun reading look 120 s late, and it was killed as timed out."""
        for _ in range(READ_TRIES):
            sequence, task, stage, position, count, started = self.slots[:]
            if sequence == self.slots[0] and sequence % 2 == 0:
                break
            os.sched_yield()  # the worker is mid-post and may be off the CPU: let it finish
        else:
            return None
        if sequence == 0:
            return None
        return int(task), Posted(_STAGES[int(stage)], None if position < 0 else int(position), int(count), started)


def worker_main(conn, board: StageBoard, registry, parent_pid: int | None, threads: str, metrics=None) -> None:
    """A worker process: run the tasks it is sent until told to stop or its parent is gone."""
    die_with_parent(parent_pid)
    if parent_pid is None:
        _let_the_fork_server_go()
    keep_freed_memory()
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the run handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    use_threads(threads)
    state = WorkerState(registry, metrics)

    number = 0  # tasks done: the number of the one being run

    def report(stage: Stage, position: int | None, count: int) -> None:
        board.post(number, stage, position, count)

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        unit, positions, single = task
        try:
            result = run_piece(state, unit, positions, single, report)
        except Exception as exc:  # a bug in the harness: costs this task, not the worker
            result = UnitResult.failed(unit, positions, f"internal error: {one_line(exc)}")
        try:
            conn.send(result)
        except (EOFError, OSError):
            return
        except Exception as exc:  # an unpicklable result (a codec's figure panel, say)
            conn.send(UnitResult.failed(unit, positions, f"internal error: {one_line(exc)}"))
        number += 1


def _let_the_fork_server_go() -> None:
    """A fork server's child inherits the server's "parent alive" pipe (so it could start
    children of its own), and the server runs while any copy of it is open. Closed here, the
    server ends when the run's process does, however it ends, and takes this worker with it
    (PR_SET_PDEATHSIG), even one stuck in a codec that never returns."""
    from multiprocessing import forkserver

    server = forkserver._forkserver
    if server._forkserver_alive_fd is not None:
        try:
            os.close(server._forkserver_alive_fd)
        except OSError:
            pass
        server._forkserver_alive_fd = None


def die_with_parent(parent_pid: int | None) -> None:
    """Ask Linux to SIGKILL this process when its parent dies; leave if that already happened
    (``parent_pid`` None: the parent is a fork server, not known to be gone)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the run still kills its workers on exit
        pass
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


@contextlib.contextmanager
def _main_not_rerun():
    """While a worker starts by forkserver or spawn: keep multiprocessing from running the
    caller's ``__main__`` script again in the worker (it does so to unpickle objects defined
    there; a worker needs only compbench and the plugins). A script that calls compbench at
    its top level, without an ``if __name__ == "__main__"`` guard, would otherwise start its
    whole run again in every worker. The name ``__main__`` is the one multiprocessing itself
    leaves alone (as for ``python -c``)."""
    main = sys.modules.get("__main__")
    saved = getattr(main, "__spec__", None)
    try:
        if main is not None:
            main.__spec__ = types.SimpleNamespace(name="__main__")
        yield
    finally:
        if main is not None:
            main.__spec__ = saved


def describe_exit(code: int | None) -> str:
    """'worker killed by signal 11 (SIGSEGV)' or 'worker exited with code 3'."""
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "unknown signal"
        return f"worker killed by signal {-code} ({name})"
    return f"worker exited with code {code}"



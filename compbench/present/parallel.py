"""Drawing a run's figures on two cores: this process and a forked child each take the next
figure not yet taken until none is left (a sweep's figures took 2.5 s on one core, most of it
matplotlib; taking turns, not halves fixed in advance, keeps both busy to the end when the
figures differ in cost: a ten-panel plot costs three single ones).

Only where forking is safe (:func:`compbench.run.local_pool.start_method_for`: no other threads, no
PyTorch) and a second core exists; otherwise, and for any figure the child could not deliver
(it failed, or died), the figure is drawn here, so errors surface exactly as when drawn serially.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

#: one figure (or a few files of one kind): draws and saves, returns the files written
FigureJob = Callable[[], list[Path]]


def draw_all(jobs: Sequence[FigureJob], order: Sequence[int] | None = None,
             meanwhile: Callable[[], object] | None = None) -> list[Path]:
    """Every job's files, in job order (as drawn serially). ``order``: the order the jobs are
    taken in (the costliest first balances the two processes best; default: job order).
    ``meanwhile``: other work of the caller's (the run's BD tables), done in this process while
    the child starts on the figures; this process takes figures once it is done."""
    from ..run.local_pool import start_method_for
    from ..run.machine import usable_cores

    order = list(range(len(jobs)) if order is None else order)
    if len(jobs) < 2 or usable_cores() < 2 or start_method_for() != "fork":
        if meanwhile is not None:
            meanwhile()
        drawn = {i: jobs[i]() for i in order}
        return [path for i in range(len(jobs)) for path in drawn[i]]
    context = multiprocessing.get_context("fork")
    taken = context.Value("i", 0)  # how many of ``order`` either process has taken
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_draw_in_child, args=(jobs, order, taken, send, os.getpid()),
                            name="compbench-figures")
    child.start()
    send.close()
    try:
        if meanwhile is not None:
            meanwhile()
        drawn: dict[int, list[Path]] = {i: jobs[i]() for i in _next_jobs(order, taken)}
        try:
            drawn.update(receive.recv())
        except (EOFError, OSError):  # the child died: what it did not send is drawn below
            pass
    finally:
        receive.close()
        if child.is_alive():
            child.kill()
        child.join()
    return [path for i, job in enumerate(jobs) for path in (drawn[i] if i in drawn else job())]


def _next_jobs(order: Sequence[int], taken) -> Iterator[int]:
    """The jobs this process takes, one at a time, as it becomes free."""
    while True:
        with taken.get_lock():
            if taken.value >= len(order):
                return
            taken.value += 1
            index = order[taken.value - 1]
        yield index


def _draw_in_child(jobs: Sequence[FigureJob], order: Sequence[int], taken, send, parent_pid: int) -> None:
    from ..run.worker_process import die_with_parent

    die_with_parent(parent_pid)
    # the run handles Ctrl-C and SIGTERM and kills this child: no second traceback from here
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    drawn = {}
    for i in _next_jobs(order, taken):
        try:
            drawn[i] = jobs[i]()
        except Exception:  # drawn again by the parent, where the error is raised as usual
            continue
    send.send(drawn)

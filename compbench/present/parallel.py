"""Drawing a run's figures on two cores: a forked child draws every other figure while this
process draws the rest (a sweep's figures took 2.5 s on one core, most of it matplotlib).

Only where forking is safe (:func:`compbench.run.local_pool.start_method_for`: no other threads, no
PyTorch) and a second core exists; otherwise, and for any figure the child could not deliver
(it failed, or died), the figure is drawn here, so errors surface exactly as when drawn serially.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from pathlib import Path

#: one figure (or a few files of one kind): draws and saves, returns the files written
FigureJob = Callable[[], list[Path]]


def draw_all(jobs: Sequence[FigureJob]) -> list[Path]:
    """Every job's files, in job order (as drawn serially)."""
    from ..run.local_pool import start_method_for

    if len(jobs) < 2 or (os.cpu_count() or 1) < 2 or start_method_for() != "fork":
        return [path for job in jobs for path in job()]
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    theirs = list(range(1, len(jobs), 2))
    child = context.Process(target=_draw_in_child, args=(jobs, theirs, send, os.getpid()),
                            name="compbench-figures")
    child.start()
    send.close()
    try:
        drawn: dict[int, list[Path]] = {i: jobs[i]() for i in range(0, len(jobs), 2)}
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


def _draw_in_child(jobs: Sequence[FigureJob], indices: list[int], send, parent_pid: int) -> None:
    from ..run.worker_process import die_with_parent

    die_with_parent(parent_pid)
    # the run handles Ctrl-C and SIGTERM and kills this child: no second traceback from here
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    drawn = {}
    for i in indices:
        try:
            drawn[i] = jobs[i]()
        except Exception:  # drawn again by the parent, where the error is raised as usual
            continue
    send.send(drawn)

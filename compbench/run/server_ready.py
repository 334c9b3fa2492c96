"""Imported by the fork server last, after the heavy modules it preloads: leaves a marker that
says the server forks workers at once from now on (:func:`is_ready`), so the run can tell
without asking it (asking blocks until the server's imports are done: seconds for PyTorch)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def marker(server_pid: int) -> Path:
    return Path(tempfile.gettempdir()) / f"compbench-fork-server-{server_pid}.ready"


def is_ready(server_pid: int | None) -> bool:
    return server_pid is not None and marker(server_pid).exists()


def forget(server_pid: int | None) -> None:
    if server_pid is not None:
        marker(server_pid).unlink(missing_ok=True)


#: set in the fork server's environment only (:func:`compbench.run.local_pool.warm_fork_server`)
IN_SERVER = "COMPBENCH_FORK_SERVER"

if os.environ.get(IN_SERVER) == str(os.getppid()):  # not in a process that merely imports it
    marker(os.getpid()).touch()

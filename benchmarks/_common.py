"""Shared by the benchmark scripts: timing helpers and verdict lines."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMPBENCH = Path(sys.executable).parent / "compbench"


def best_of(repeat: int, fn) -> float:
    """Shortest of ``repeat`` wall times: the machine is shared, noise only adds time."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def time_cli(args: list[str], repeat: int = 1, python_path: str | None = None) -> float:
    """Wall time of a cold ``compbench`` process (a new interpreter each time), results to a
    throwaway folder. ``python_path``: run the compbench package found there instead (e.g. an
    older revision unpacked by :func:`unpack_revision`)."""
    return time_cli_with_cpu(args, repeat, python_path)[0]


def time_cli_with_cpu(args: list[str], repeat: int = 1, python_path: str | None = None,
                      inspect=None) -> tuple[float, float]:
    """As :func:`time_cli`, and the CPU seconds (user + system, the process and its workers)
    of the run with the shortest wall time: on a shared machine the CPU time says what the
    run itself cost. ``inspect(folder)`` is called on each run's results folder before it
    goes."""
    command = [str(COMPBENCH)]
    env = None
    if python_path:
        command = [sys.executable, "-m", "compbench"]
        env = {**os.environ, "PYTHONPATH": python_path}
    runs = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            before, start = os.times(), time.perf_counter()
            subprocess.run([*command, *args, "--out", f"{tmp}/run", "--quiet"], check=True,
                           capture_output=True, env=env)
            wall, after = time.perf_counter() - start, os.times()
            if inspect is not None:
                inspect(Path(tmp) / "run")
        runs.append((wall, after.children_user + after.children_system
                     - before.children_user - before.children_system))
    return min(runs)


def unpack_revision(revision: str, into: str) -> str:
    """The harness and built-in plugins (``compbench``, ``codecs``, ``datasets``) of a git
    revision of this checkout, unpacked into ``into`` under their package names (for
    before/after timings in one session); returns the folder to put on PYTHONPATH, where it
    shadows the installed packages."""
    root = Path(__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(root), "archive", revision, "compbench", "codecs", "datasets"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    for folder, package in (("codecs", "compbench_codecs"), ("datasets", "compbench_datasets")):
        os.rename(Path(into) / folder, Path(into) / package)
    return into


def verdict(label: str, measured: float, target: float, unit: str = "s", higher_is_better: bool = False) -> bool:
    ok = measured >= target if higher_is_better else measured <= target
    sign = ">=" if higher_is_better else "<="
    print(f"{label}: {measured:.2f} {unit} (target {sign} {target:g} {unit}) {'PASS' if ok else 'FAIL'}")
    return ok

"""Shared by the benchmark scripts: timing helpers and verdict lines."""

from __future__ import annotations

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


def time_cli(args: list[str], repeat: int = 1) -> float:
    """Wall time of a cold ``compbench`` process (a new interpreter each time), results to a
    throwaway folder."""
    def once():
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([str(COMPBENCH), *args, "--out", f"{tmp}/run", "--quiet"], check=True,
                           capture_output=True)
    return best_of(repeat, once)


def verdict(label: str, measured: float, target: float, unit: str = "s", higher_is_better: bool = False) -> bool:
    ok = measured >= target if higher_is_better else measured <= target
    sign = ">=" if higher_is_better else "<="
    print(f"{label}: {measured:.2f} {unit} (target {sign} {target:g} {unit}) {'PASS' if ok else 'FAIL'}")
    return ok

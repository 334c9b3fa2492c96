"""``compbench compare BASE NEW --curves --plot DIR`` on two default sweeps over the 10,000 MNIST
test images (ddcae, jpeg and jpeg2000: 31 settings, 310,000 records each), from a cold start,
overlaid plots included: target <= 5 s on 2 cores (issue 19).

The two runs are made first with ``compbench run --sweep`` (two real runs of the same command;
about 20 s each on an idle 2-core machine), or reused from ``--runs DIR`` when they are there.
The comparison reads each run's summary.csv and manifest.json, never its records, so the time
does not grow with them; the records are counted only to say what was compared. Wall time is
the verdict (best of ``--repeat``); the CPU seconds (the process and its plotting child) and the
load average are printed beside it: on a shared machine they say what the command itself cost.

Run: python benchmarks/bench_compare_curves.py [--repeat N] [--runs DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import COMPBENCH, verdict

TARGET_S = 5.0
SETTINGS, IMAGES = 31, 10_000


def make_runs(folder: Path) -> list[Path]:
    """The base and new sweeps in ``folder``, made when missing."""
    runs = [folder / "base", folder / "new"]
    for run in runs:
        if not (run / "summary.csv").exists():
            start = time.perf_counter()
            subprocess.run([str(COMPBENCH), "run", "--sweep", "--out", str(run), "--overwrite", "--quiet",
                            "--no-figures"], check=True, capture_output=True)
            print(f"made {run}: {time.perf_counter() - start:.1f} s")
    return runs


def describe(run: Path) -> tuple[int, int]:
    """Settings and records of a run (records.csv's lines, less the header)."""
    settings = len(json.loads((run / "manifest.json").read_text())["codecs"])
    with open(run / "records.csv", "rb") as records:
        lines = sum(chunk.count(b"\n") for chunk in iter(lambda: records.read(1 << 20), b""))
    return settings, lines - 1


def time_compare(runs: list[Path], plots: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one cold ``compare --curves --plot``."""
    before, start = os.times(), time.perf_counter()
    subprocess.run([str(COMPBENCH), "compare", *map(str, runs), "--curves", "--plot", str(plots)], check=True,
                   capture_output=True)
    wall, after = time.perf_counter() - start, os.times()
    return wall, after.children_user + after.children_system - before.children_user - before.children_system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--runs", type=Path, help="keep the two sweeps here (reused when present)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = make_runs(args.runs or Path(tmp))
        for run in runs:
            settings, records = describe(run)
            print(f"{run}: {settings} settings, {records:,} records")
            if (settings, records) != (SETTINGS, SETTINGS * IMAGES):
                print(f"not the default sweep over {IMAGES:,} images: no verdict")
                return 1
        times = [time_compare(runs, Path(tmp) / f"plots{i}") for i in range(args.repeat)]
        plots = sorted(p.name for p in (Path(tmp) / "plots0").iterdir())
    wall, cpu = min(times)
    print(f"{len(plots)} plots ({', '.join(plots)}); {cpu:.2f} CPU s; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores; every wall time: {', '.join(f'{t:.2f}' for t, _ in times)} s")
    return 0 if verdict("compare --curves --plot, two default sweeps", wall, TARGET_S) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Harness speed (issues 3, 9 and 12): its own cost, its scaling, Dask, and against an older revision.

    python benchmarks/bench_harness.py [--repeat N] [--quick] [--before REV | --before none]

Over the 10,000 MNIST test images; every ratio is of the same work on both sides, measured in
turn (A B A B ...) and judged on the median of the pairs' ratios. Targets:

1. ``compbench run --codecs jpeg,jpeg2000``, a cold process: median wall <= 15 s on 2 cores.
2. Harness overhead: JPEG (quality 75) through the harness (``api.run("jpeg", jobs=1,
   write=False)``: one worker process) against the same JPEG in a bare loop in this process:
   the same codec object's ``encode_batch``/``decode_batch`` on the same images, in the same
   2,500-image units the harness makes at one worker, and the same metrics
   (``compbench.run.worker.measure``, as a worker calls it: the run's metric set, the fused
   pass and MS-SSIM, and the codec's extras), so the ratio is the harness's own cost, not the
   metrics'. Target: the harness at >= 0.8x the bare loop's throughput (issue 12; issue 3
   asked 0.5).
3. Scaling: ``api.run("jpeg2000", limit=8000, write=False)`` at ``jobs=1`` against ``jobs=2``:
   speed-up >= 1.7x on 2 cores.
4. Dask: ``executor="dask"`` (a LocalCluster of 2 workers, started by each run) against the local
   pool's 2 workers, ``jpeg,jpeg2000``: Dask's throughput >= 0.8x the local pool's.
5. Against ``--before REV`` (default: where this branch left main; ``none`` to skip): the
   pass-through codec ``none`` through ``api.run(write=False)``, each sample a fresh process
   (timed after one warm-up run in it) at REV and at this checkout in turn: now / before
   <= 1.10 (issue 9: what fault isolation may cost). The main job before and after:
   ``bench_end_to_end.py --before REV`` (issue 18's target, 2%).

``--repeat`` pairs (or runs) each (default 5, ``--quick`` 2). Exit 1 on a MISS.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _common import (
    Sample,
    at_least,
    at_most,
    interleave,
    load_note,
    median,
    paired_ratio,
    run_cli,
    spread,
    timed,
    unpack_revision,
    verdict_table,
)

from compbench import api
from compbench.contracts.registry import build_registry
from compbench.metrics import MetricSet
from compbench.run.spec import make_spec
from compbench.run.worker import measure

WALL_TARGET_S = 15.0
THROUGHPUT_TARGET = 0.8  # harness / bare loop throughput (issue 12; issue 3 asked 0.5)
SCALING_TARGET = 1.7  # jobs=1 time / jobs=2 time
DASK_TARGET = 0.8  # Dask LocalCluster throughput / local pool throughput
ISOLATION_TARGET = 1.10  # now / before wall time of the pass-through run
#: images per unit at one worker: images / (4 x workers), at most 2,500 (compbench/run/units.py)
UNIT = 2500


def bare_jpeg(images: np.ndarray):
    """The run's work on ``images`` without the harness: the jpeg codec at its defaults,
    created as a worker creates it, its batch calls per 2,500-image unit, and the run's metrics
    on each unit (with the codec's overhead bytes and extras: the worker's own call)."""
    registry = build_registry()
    factory = registry.codec("jpeg")
    codec = factory.create(**make_spec(factory, {}).kwargs)
    metrics = MetricSet.for_run(registry, [factory])
    extras = {m.name for m in factory.metrics}

    def loop() -> None:
        for start in range(0, len(images), UNIT):
            unit = images[start : start + UNIT]
            blobs = codec.encode_batch(list(unit))
            decoded = np.stack(codec.decode_batch(blobs))
            nbytes = np.array([len(b) for b in blobs])
            measure(metrics, codec, unit, decoded, nbytes, extras)

    return loop


def overhead(repeat: int) -> list:
    images = np.stack(api.load_dataset("mnist", "test").read(range(10_000)))
    samples = interleave({"harness": lambda: timed(lambda: api.run("jpeg", jobs=1, write=False)),
                          "bare loop": lambda: timed(bare_jpeg(images))}, repeat, warmup=1)
    harness, bare = samples["harness"], samples["bare loop"]
    ratio = paired_ratio(bare, harness)
    print(f"\n2. JPEG over {len(images):,} digits at one worker: through the harness {spread(harness)}; "
          f"bare loop, same codec calls and metrics {spread(bare)}")
    print(f"   throughput harness / bare: {ratio:.2f}x (median of pairs); CPU {paired_ratio(bare, harness, 'cpu'):.2f}x "
          "(the harness's CPU includes its worker's start)")
    return [at_least("harness / bare loop throughput (JPEG, jobs 1, same metrics)", ratio, THROUGHPUT_TARGET, "x")]


def scaling(repeat: int) -> list:
    samples = interleave({jobs: lambda jobs=jobs: timed(lambda: api.run("jpeg2000", limit=8000, jobs=jobs,
                                                                            write=False))
                          for jobs in (1, 2)}, repeat, warmup=1)
    speedup = paired_ratio(samples[1], samples[2])
    print(f"\n3. jpeg2000 over 8,000 digits: jobs=1 {spread(samples[1])}, jobs=2 {spread(samples[2])}; "
          f"speed-up {speedup:.2f}x")
    return [at_least("jobs=2 speed-up over jobs=1 (jpeg2000, 8,000 digits)", speedup, SCALING_TARGET, "x")]


def dask(repeat: int) -> list:
    """Each Dask run starts its own LocalCluster (included); the process's first Dask run also
    imports distributed and starts the fork server: a warm-up round, shown apart."""
    first = timed(lambda: api.run("jpeg,jpeg2000", jobs=2, write=False, executor="dask"))
    samples = interleave({
        "local": lambda: timed(lambda: api.run("jpeg,jpeg2000", jobs=2, write=False)),
        "dask": lambda: timed(lambda: api.run("jpeg,jpeg2000", jobs=2, write=False, executor="dask")),
    }, repeat)
    ratio = paired_ratio(samples["local"], samples["dask"])
    print(f"\n4. jpeg,jpeg2000, 10,000 digits, 2 workers: local pool {spread(samples['local'])}, Dask "
          f"LocalCluster {spread(samples['dask'])} (cluster start included; the process's first Dask run "
          f"{first.wall:.2f} s)")
    return [at_least("Dask / local pool throughput (jpeg,jpeg2000, 2 workers)", ratio, DASK_TARGET, "x")]


#: one pass-through run (``none``, write=False) timed after a warm-up run in the same process;
#: plain API calls that every revision since the local pool has, so an older one runs it too
PASSTHROUGH = """
import os, time
from compbench import api
api.run("none", write=False)
before, start = os.times(), time.perf_counter()
api.run("none", write=False)
wall, after = time.perf_counter() - start, os.times()
print(wall, sum(after[:4]) - sum(before[:4]))
"""


def passthrough_in(python_path: str | None) -> Sample:
    """:data:`PASSTHROUGH` in a fresh interpreter running the compbench found at
    ``python_path`` (or this checkout's)."""
    env = {**os.environ, "PYTHONPATH": python_path} if python_path else None
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run([sys.executable, "-P", "-c", PASSTHROUGH], env=env, check=True, capture_output=True,
                              text=True, cwd=tmp)
    wall, cpu = done.stdout.split()[-2:]
    return Sample(float(wall), float(cpu))


def against(before: str, repeat: int) -> list:
    with tempfile.TemporaryDirectory() as tmp:
        old = unpack_revision(before, tmp)
        samples = interleave({"now": lambda: passthrough_in(None), "before": lambda: passthrough_in(old)}, repeat)
    ratio = paired_ratio(samples["now"], samples["before"])
    print(f"\n5. pass-through (none) over 10,000 digits: now {spread(samples['now'])}, at {before[:10]} "
          f"{spread(samples['before'])}; now / before {ratio:.3f}x, CPU "
          f"{paired_ratio(samples['now'], samples['before'], 'cpu'):.3f}x")
    return [at_most(f"pass-through run now / at {before[:10]}", ratio, ISOLATION_TARGET, "x", ".3f")]


def default_before() -> str | None:
    done = subprocess.run(["git", "-C", str(Path(__file__).parent), "merge-base", "HEAD", "main"],
                          capture_output=True, text=True)
    return done.stdout.strip() or None if done.returncode == 0 else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, help="pairs (or runs) per measurement (default 5, --quick 2)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--before", help="older revision to compare with (default: merge-base with main; "
                        "'none' to skip)")
    args = parser.parse_args()
    repeat = args.repeat or (2 if args.quick else 5)
    print(f"{load_note()}; {repeat} runs or pairs each")

    cold = interleave({"cold": lambda: run_cli(["run", "--codecs", "jpeg,jpeg2000"])}, repeat)["cold"]
    print(f"\n1. compbench run --codecs jpeg,jpeg2000, 10,000 digits, cold: wall {spread(cold)}, "
          f"CPU {median(s.cpu for s in cold):.1f} s")
    checks = [at_most("compbench run --codecs jpeg,jpeg2000, cold: median wall", median(s.wall for s in cold),
                      WALL_TARGET_S, " s")]
    checks += overhead(repeat) + scaling(repeat) + dask(repeat)
    before = default_before() if args.before is None else (None if args.before == "none" else args.before)
    if before:
        checks += against(before, repeat)
    print(f"\n({load_note()} at the end)")
    return verdict_table(checks)


if __name__ == "__main__":
    sys.exit(main())

"""Memory of the main process (issue 12): peak RSS of ``compbench run --codecs jpeg --sweep
--split train`` over the 60,000 training images against the same over ``--limit 10000``
(target: at most 1.2x). The peak of the main process (VmHWM) and of its largest worker are
given separately, with wall and CPU seconds.

Run: python benchmarks/bench_memory.py [--codecs jpeg] [--small 10000] [--large 0 (all)]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from _common import COMPBENCH, verdict

TARGET = 1.2

# runs the CLI in this interpreter, then reports its own VmHWM and its children's peak
PROBE = """
import json, resource, sys, time
from compbench.cli import main
start, cpu = time.perf_counter(), time.process_time()
try:
    main(sys.argv[1:])
except SystemExit:
    pass
wall = time.perf_counter() - start
own = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"main_kb": int(own), "child_kb": children.ru_maxrss, "wall": wall,
                  "cpu_main": time.process_time() - cpu, "cpu_children": children.ru_utime + children.ru_stime}))
"""


def peak(codecs: str, limit: int | None) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        args = ["run", "--codecs", codecs, "--sweep", "--split", "train", "--out", f"{tmp}/run", "--quiet",
                "--no-figures", "--jobs", "2"] + (["--limit", str(limit)] if limit else [])
        done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True)
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codecs", default="jpeg")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=0, help="images of the large run (0: the whole split)")
    args = parser.parse_args()
    assert COMPBENCH.exists()
    print(f"{os.cpu_count()} cores; compbench run --codecs {args.codecs} --sweep --split train --jobs 2")
    results = {}
    for label, limit in (("small", args.small), ("large", args.large or None)):
        r = results[label] = peak(args.codecs, limit)
        print(f"{limit or 'all 60,000'} images: main peak RSS {r['main_kb'] / 1024:.0f} MB, largest worker "
              f"{r['child_kb'] / 1024:.0f} MB; wall {r['wall']:.1f} s, CPU main {r['cpu_main']:.1f} s + "
              f"workers {r['cpu_children']:.1f} s")
    ratio = results["large"]["main_kb"] / results["small"]["main_kb"]
    return 0 if verdict("main peak RSS, 60k / 10k images", ratio, TARGET, unit="x") else 1


if __name__ == "__main__":
    sys.exit(main())

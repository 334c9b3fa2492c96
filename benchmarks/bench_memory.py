"""Memory of the main process (issue 12): peak RSS of a run over 60,000 images against 10,000.

    python benchmarks/bench_memory.py [--codecs jpeg] [--small 10000] [--large 0 (all)] [--quick]

Runs ``compbench run --codecs jpeg --sweep --split train --jobs 2 --no-figures`` over the
60,000 training images and over ``--limit 10000``, each once in a fresh interpreter, and
compares the main process's peak RSS (VmHWM). Target: 60k / 10k at most 1.2x (the main
process's memory must not grow with the number of images). The largest worker's peak, wall and
CPU seconds are printed beside. The verdict is judged only on that work (the default
``--codecs``, ``--small`` and ``--large``); ``--quick`` runs 2,000 against 12,000 images as a
smoke test, not judged. Exit 1 on a MISS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

from _common import at_most, not_judged, verdict_table

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
    parser.add_argument("--quick", action="store_true", help="2,000 against 12,000 images, not judged")
    args = parser.parse_args()
    if args.quick:
        args.small, args.large = 2000, 12_000
    print(f"{os.cpu_count()} cores; compbench run --codecs {args.codecs} --sweep --split train --jobs 2")
    results = {}
    for label, limit in (("small", args.small), ("large", args.large or None)):
        r = results[label] = peak(args.codecs, limit)
        print(f"{limit or 'all 60,000'} images: main peak RSS {r['main_kb'] / 1024:.0f} MB, largest worker "
              f"{r['child_kb'] / 1024:.0f} MB; wall {r['wall']:.1f} s, CPU main {r['cpu_main']:.1f} s + "
              f"workers {r['cpu_children']:.1f} s")
    ratio = results["large"]["main_kb"] / results["small"]["main_kb"]
    print(f"main peak RSS, large / small: {ratio:.2f}x")
    what = f"main peak RSS, 60k / 10k images, --codecs {args.codecs}"
    target_work = (args.codecs, args.small, args.large) == ("jpeg", 10_000, 0)
    return verdict_table([at_most(what, ratio, TARGET, "x") if target_work
                          else not_judged(what, f"<= {TARGET:g}x", "other codecs or image counts than the target's")])


if __name__ == "__main__":
    sys.exit(main())

"""End-to-end wall times over the 10,000 MNIST test images, each from a cold start.

- the main job, ``compbench run --codecs ddcae,jpeg,jpeg2000``: target <= 30 s (issue 4)
- a default sweep of jpeg, jpeg2000 and ddcae (8 settings each): target <= 90 s (issue 5)

Run: python benchmarks/bench_end_to_end.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import sys

from _common import time_cli, verdict

CASES = (
    ("main job: compbench run --codecs ddcae,jpeg,jpeg2000", ["run", "--codecs", "ddcae,jpeg,jpeg2000"], 30.0),
    ("default sweep: --codecs jpeg,jpeg2000,ddcae --sweep", ["run", "--codecs", "jpeg,jpeg2000,ddcae", "--sweep"], 90.0),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; best of {args.repeat}")
    ok = True
    for label, command, target in CASES:
        ok &= verdict(label, time_cli(command, args.repeat), target)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

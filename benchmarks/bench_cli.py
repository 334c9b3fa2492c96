"""How long the command line takes to answer (issue 21, item 6): ``compbench --help`` and a
one-line error (``compbench run --codecs jepg``), each a fresh interpreter, before and after.

"Before" is an older revision of this checkout (``--before REV``, default: main) unpacked and
put first on PYTHONPATH; "after" is this checkout. The two are measured interleaved in one
session, so the machine's load falls on both alike, and both with their bytecode cached, as
an installed compbench has it (a PYTHONDONTWRITEBYTECODE environment would compile every module
of the checkout on every start: 0.1-0.3 s). Reported: the median wall time and the
median CPU time (user + system of the process: on a shared machine it says what the command
itself cost), with the load average. Every run's exit code is checked (--help: 0; the usage
error: 2): a run that exits otherwise is a MISS (its stderr's tail printed) and its timing, not
the work named, is not judged. Target: a median wall time of at most 0.3 s for each, as on an
idle machine; a MISS exits 1.

Run: python benchmarks/bench_cli.py [--repeat 15] [--before REV | --before none]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from _common import at_most, exit_codes, not_judged, unpack_revision, verdict_table

TARGET_S = 0.3
#: name -> (arguments, the exit code expected: 2 is argparse's usage error)
COMMANDS = {"--help": (["--help"], 0), "one-line error": (["run", "--codecs", "jepg"], 2)}


def timed(args: list[str], python_path: str | None, pycache: str) -> tuple[float, float, int, str]:
    """Wall and CPU seconds, exit code and stderr of one ``python -m compbench ARGS``."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPYCACHEPREFIX=pycache, **({"PYTHONPATH": python_path} if python_path else {}))
    before, start = os.times(), time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "compbench", *args], capture_output=True, text=True, env=env,
                          cwd=tempfile.gettempdir())
    wall, after = time.perf_counter() - start, os.times()
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    return wall, cpu, done.returncode, done.stderr


def measure(repeat: int, versions: dict[str, str | None],
            pycache: str) -> dict[tuple[str, str], list[tuple[float, float, int, str]]]:
    """(version, command) -> [(wall, cpu, exit code, stderr)], the versions and commands taking turns."""
    for path in versions.values():  # the first start of each writes the bytecode
        for args, _ in COMMANDS.values():
            timed(args, path, pycache)
    times: dict[tuple[str, str], list[tuple[float, float, int, str]]] = {}
    for _ in range(repeat):
        for command, (args, _) in COMMANDS.items():
            for version, path in versions.items():
                times.setdefault((version, command), []).append(timed(args, path, pycache))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--before", default="main", help="revision to compare with, or 'none'")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        versions: dict[str, str | None] = {"after": None}
        if args.before != "none":
            versions = {f"before ({args.before})": unpack_revision(args.before, tmp), **versions}
        load_at_start = os.getloadavg()
        times = measure(args.repeat, versions, pycache=os.path.join(tmp, "pycache"))
    print(f"load average at start {load_at_start[0]:.2f}, at end {os.getloadavg()[0]:.2f} "
          f"({os.cpu_count()} cores); medians of {args.repeat}")
    checks = []
    for (version, command), runs in times.items():
        args, expected = COMMANDS[command]
        wall = statistics.median(run[0] for run in runs)
        cpu = statistics.median(run[1] for run in runs)
        print(f"{command:15} {version:16} wall {wall:5.2f} s  cpu {cpu:5.2f} s")
        exits = exit_codes(f"compbench {' '.join(args)} ({version}): exit codes", [run[2] for run in runs], expected)
        checks.append(exits)
        if exits.failed:
            code, stderr = next((run[2], run[3]) for run in runs if run[2] != expected)
            print(f"  exit {code}, expected {expected}; its stderr ends:\n    "
                  + "\n    ".join(stderr[-2000:].rstrip().splitlines() or ["(empty)"]))
        if version == "after":
            what = f"compbench {' '.join(args)}: median wall"
            checks.append(at_most(what, wall, TARGET_S, " s") if not exits.failed else
                          not_judged(what, f"<= {TARGET_S:g} s", "runs exited wrongly: not the work named"))
    return verdict_table(checks)


if __name__ == "__main__":
    sys.exit(main())

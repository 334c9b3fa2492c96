"""Shared by the benchmark scripts: timing, interleaving, older revisions, verdicts.

Rules every benchmark here keeps:

- a verdict comes only from what that run measured (nothing recorded earlier decides one);
- a ratio compares the same work on both sides, measured interleaved (A B A B ...), so that
  load from other users of the machine falls on both alike; the verdict is on the median of
  the pairs' ratios, and the medians of each side are printed beside it;
- :func:`verdict_table` prints every check and gives the exit code: 1 if any is a MISS, or
  NOT MEASURED (a check the run had to make and could not: nothing measured, a declared
  dependency missing; never a PASS).
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
K, T = TypeVar("K"), TypeVar("T")


# -- verdicts ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """One target and what this run measured against it. ``ok`` None: not judged in this run
    (the table says why in ``measured``); it is not a PASS. It is a failure of the run too when
    ``required``: the check had to be made in this run and could not be (:func:`not_measured`)."""

    what: str
    measured: str
    target: str
    ok: bool | None
    required: bool = False

    @property
    def status(self) -> str:
        if self.ok is None:
            return "NOT MEASURED" if self.required else "not judged"
        return "PASS" if self.ok else "MISS"

    @property
    def failed(self) -> bool:
        """A MISS, or NOT MEASURED: either makes the benchmark exit 1."""
        return self.ok is False or (self.ok is None and self.required)


def _bound(value: float, target: float, unit: str, fmt: str, at_most: bool, what: str) -> Check:
    ok = math.isfinite(value) and (value <= target if at_most else value >= target)
    return Check(what, f"{value:{fmt}}{unit}", f"{'<=' if at_most else '>='} {target:g}{unit}", ok)


def at_most(what: str, value: float, target: float, unit: str = "", fmt: str = ".2f") -> Check:
    """PASS if ``value`` <= ``target`` (NaN: MISS)."""
    return _bound(value, target, unit, fmt, True, what)


def at_least(what: str, value: float, target: float, unit: str = "", fmt: str = ".2f") -> Check:
    """PASS if ``value`` >= ``target`` (NaN: MISS)."""
    return _bound(value, target, unit, fmt, False, what)


def not_judged(what: str, target: str, why: str) -> Check:
    """A target this run does not judge by design (other work than the target's, an optional
    measurement not asked for): shown, not a PASS, not a failure."""
    return Check(what, f"({why})", target, None)


def not_measured(what: str, target: str, why: str) -> Check:
    """A target this run had to judge and could not (nothing was measured, a declared
    dependency is missing): NOT MEASURED, never a PASS; the benchmark exits 1, as on a MISS."""
    return Check(what, f"({why})", target, None, required=True)


def exit_codes(what: str, codes: list[int], expected: int) -> Check:
    """PASS if every one of ``codes`` (a command's exit codes, one per run) is ``expected``;
    none at all: NOT MEASURED."""
    if not codes:
        return not_measured(what, f"exit {expected}", "never run")
    wrong = sorted({code for code in codes if code != expected})
    measured = (f"exit {expected} in {len(codes)} of {len(codes)}" if not wrong else
                f"exit {','.join(map(str, wrong))} in {sum(c != expected for c in codes)} of {len(codes)}")
    return Check(what, measured, f"exit {expected}", not wrong)


def verdict_table(checks: Iterable[Check], title: str = "verdicts") -> int:
    """Print every check (what, measured, target, PASS/MISS/not judged/NOT MEASURED) and return
    the exit code: 1 if any check is a MISS or NOT MEASURED, else 0. Every benchmark ends with
    ``sys.exit(verdict_table(...))``."""
    checks = list(checks)
    print(f"\n{title} (each from a measurement made in this run):")
    if not checks:
        print("  (no targets)")
        return 0
    width = max(len(c.what) for c in checks)
    measured = max(len(c.measured) for c in checks)
    target = max(len(c.target) for c in checks)
    for c in checks:
        print(f"  {c.what:<{width}}  {c.measured:>{measured}}  target {c.target:<{target}}  {c.status}")
    missed = sum(c.ok is False for c in checks)
    judged = sum(c.ok is not None for c in checks)
    unmeasured = sum(c.failed and c.ok is None for c in checks)
    print(f"{judged - missed} of {judged} judged targets met" + (f"; {missed} MISS" if missed else "")
          + (f"; {unmeasured} NOT MEASURED (had to be measured in this run and could not: a failure)"
             if unmeasured else ""))
    return 1 if missed or unmeasured else 0


# -- timing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sample:
    """One timed run: wall seconds, and CPU seconds (user + system, the process and its
    children): on a shared machine the CPU time says what the run itself cost. The CPU time is
    what the kernel accounts to descendants that were waited for: a run whose workers come from
    a fork server it does not reap (compbench since 54cda88, with ddcae or convae) shows only
    its own process's; compare CPU only between runs that start workers alike."""

    wall: float
    cpu: float = math.nan

    def __str__(self) -> str:
        return f"wall {self.wall:.2f} s, CPU {self.cpu:.2f} s"


def timed(fn: Callable[[], object]) -> Sample:
    """Wall and CPU seconds of ``fn()`` in this process (with its child processes, if any
    ended and were waited for)."""
    before, start = os.times(), time.perf_counter()
    fn()
    wall, after = time.perf_counter() - start, os.times()
    return Sample(wall, sum(after[:4]) - sum(before[:4]))


def interleave(contenders: dict[K, Callable[[], T]], repeat: int, warmup: int = 0,
               progress: bool = False) -> dict[K, list[T]]:
    """Each contender ``repeat`` times, in turn (A B A B ...), after ``warmup`` rounds that
    are not kept; what each returned (a :class:`Sample`, usually), in round order (pair i is
    round i). ``progress``: a line per run as it ends (for runs of minutes)."""
    samples: dict[K, list[T]] = {name: [] for name in contenders}
    for round_ in range(warmup + repeat):
        for name, run in contenders.items():
            sample = run()
            if round_ >= warmup:
                samples[name].append(sample)
            if progress:
                kept = "warm-up" if round_ < warmup else f"round {round_ - warmup + 1} of {repeat}"
                print(f"  ... {name}, {kept}: {sample}; {load_note()}", flush=True)
    return samples


def median(values: Iterable[float]) -> float:
    values = list(values)
    return statistics.median(values) if values else math.nan


def pair_ratios(a: list[Sample], b: list[Sample], field: str = "wall") -> list[float]:
    """A's time / B's time in each round (A and B interleaved)."""
    return [getattr(x, field) / getattr(y, field) for x, y in zip(a, b, strict=True)]


def paired_ratio(a: list[Sample], b: list[Sample], field: str = "wall") -> float:
    """Median over the rounds of A's time / B's time in that round: the figure verdicts use."""
    return median(pair_ratios(a, b, field))


def spread(samples: list[Sample], field: str = "wall") -> str:
    """'median (min-max) s' of one contender's samples."""
    values = [getattr(s, field) for s in samples]
    return f"{median(values):.2f} s ({min(values):.2f}-{max(values):.2f}, n={len(values)})"


# -- whole compbench processes -------------------------------------------------------------

def run_cli(args: list[str], python_path: str | None = None,
            inspect: Callable[[Path], None] | None = None) -> Sample:
    """Wall and CPU seconds of one cold ``python -m compbench ARGS --out TMP --quiet`` (a new
    interpreter, its workers included), run from an empty folder so that no checkout on the
    current directory shadows the packages. ``python_path``: run the compbench found there
    (an older revision unpacked by :func:`unpack_revision`) instead of the installed one.
    ``inspect(folder)`` is called on the results folder before it is removed. A run that fails
    stops the benchmark: its figures would not be the work asked for."""
    env = {**os.environ, "PYTHONPATH": python_path} if python_path else None
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-P", "-m", "compbench", *args, "--out", f"{tmp}/run", "--quiet"]
        before, start = os.times(), time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=tmp)
        wall, after = time.perf_counter() - start, os.times()
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
        if inspect is not None:
            inspect(Path(tmp) / "run")
    return Sample(wall, after.children_user + after.children_system - before.children_user - before.children_system)


def harness_run(codecs: str, **options):
    """``compbench.api.run(codecs, write=False, **options)`` (nothing written; the records in
    memory) and its wall and CPU seconds (this process and its workers): the RunResult and a
    :class:`Sample`. A run in which any image failed stops the benchmark: its figures would not
    be the work asked for."""
    from compbench import api

    result = []
    sample = timed(lambda: result.append(api.run(codecs, write=False, **options)))
    summary = result[0].summary
    errors = int(summary.loc[summary["class"] == "all", "errors"].sum())
    if errors:
        raise SystemExit(f"{errors} images failed in the harness run: its figures would not be the work asked for")
    return result[0], sample


def codec_seconds(folder: Path) -> float:
    """The codecs' own time in a results folder: the sum of encode_s + decode_s over its
    records.csv (each image's share of its unit's batch calls)."""
    records = pd.read_csv(folder / "records.csv", usecols=["encode_s", "decode_s"])
    return float(records["encode_s"].sum() + records["decode_s"].sum())


def unpack_revision(revision: str, into: str) -> str:
    """The harness and built-in plugins (``compbench``, ``codecs``, ``datasets``) of a git
    revision of this checkout, unpacked into ``into`` under their package names and compiled
    (so that no run of it pays for writing .pyc files); returns the folder to put on
    PYTHONPATH, where it shadows the installed packages. The entry points stay this
    checkout's: a plugin module the revision lacks is loaded from this checkout (and may
    fail to load against the older harness, which the run then notes and goes on)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "compbench", "codecs", "datasets"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", into], input=archive, check=True)
    for folder, package in (("codecs", "compbench_codecs"), ("datasets", "compbench_datasets")):
        os.rename(Path(into) / folder, Path(into) / package)
    compile_packages(Path(into))
    return into


def compile_packages(root: Path = ROOT) -> None:
    """Write the .pyc files of the packages under ``root`` (this checkout by default) now, so
    that the first timed run of a revision does not pay for them and the second not."""
    folders = [str(root / name) for name in ("compbench", "codecs", "datasets", "metrics", "compbench_codecs",
                                             "compbench_datasets") if (root / name).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True, capture_output=True)


def describe_revision(revision: str) -> str:
    done = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h %s", revision],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()[:100]


def load_note() -> str:
    return f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"


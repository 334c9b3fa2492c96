"""What a whole ``compbench run`` costs beyond its codecs' own work, and how it scales.

    python benchmarks/bench_overhead.py [--repeat N] [--quick]

Every figure is a cold ``compbench run`` process (interpreter start, workers, records, summary,
figures, report: what a user waits for). The codecs' floor of a run is the sum of ``encode_s +
decode_s`` over its records.csv divided by the workers it used (``--jobs``, default one per
core, as its manifest records): the least wall time any harness could reach with those codecs
on this machine. Targets (the performance issue after issue 18):

- the default MNIST sweep, ``compbench run --codecs ddcae,jpeg,jpeg2000 --sweep`` (10,000 test
  digits, 31 settings): wall / floor <= 1.2;
- the photographs, ``compbench run --dataset skimage --codecs jpeg,jpeg2000,webp,avif,jpegxl
  --sweep``: wall / floor <= 1.3;
- scaling, ``compbench run --codecs jpeg2000 --sweep --limit 4000`` at ``--jobs 1`` against
  ``--jobs 2`` (the same work, in turn): wall speed-up >= 1.8 on 2 cores;
- the main job, ``compbench run --codecs ddcae,jpeg,jpeg2000`` (10,000 digits): wall <= 4 s.

For the scaling case it also prints, from the same runs, what scales with ``--jobs`` and what
does not: the run's own clock from planning to the start of its finish (manifest.json's
``seconds``: the workers' phase) and the rest of the wall time (start-up, figures, tables,
report, exit); and, in the same rounds, the codecs alone: the same coding (jpeg2000's ladder
over the 4,000 digits, the codec objects' batch calls, no harness: ``_bare_sweep.py``) in one
process against two processes each coding half at once. That ratio is this machine's ceiling
for any harness's ``--jobs 2`` on this work (shared caches and clocks keep it under 2); it is
printed beside the verdict, not used for it. The sweep and the scaling case also run with
``--no-figures`` in the same rounds (printed, not judged): what the figures, drawn after the
last unit, cost of each ratio.

Each case runs ``--repeat`` times (default 5, ``--quick`` 2), the cases in turn (round after
round, so load from elsewhere spreads over all); verdicts on the medians: of the per-run wall /
floor ratios, of the paired jobs 1 / jobs 2 ratios, of the main job's wall times. Exit 1 on a
MISS. When written, every target missed today: they are the next issue's goals.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from _common import (
    ROOT,
    Sample,
    at_least,
    at_most,
    codec_seconds,
    compile_packages,
    interleave,
    load_note,
    median,
    pair_ratios,
    paired_ratio,
    run_cli,
    spread,
    verdict_table,
)

SWEEP = ["run", "--codecs", "ddcae,jpeg,jpeg2000", "--sweep"]
PHOTOS = ["run", "--dataset", "skimage", "--codecs", "jpeg,jpeg2000,webp,avif,jpegxl", "--sweep"]
SCALING = ["run", "--codecs", "jpeg2000", "--sweep", "--limit", "4000"]
MAIN_JOB = ["run", "--codecs", "ddcae,jpeg,jpeg2000"]
SWEEP_FLOOR_TARGET, PHOTOS_FLOOR_TARGET = 1.2, 1.3  # wall / the codecs' floor, at most
SCALING_TARGET = 1.8  # jobs 1 wall / jobs 2 wall, at least
MAIN_JOB_TARGET = 4.0  # seconds, at most


def bare_coding(shares: int) -> Sample:
    """The scaling case's coding without the harness, cut into ``shares`` processes whose loops
    start together (each loads everything, says so, and waits for the word): "wall", the
    longest of their loops; "cpu", the loops' sum (imports and data loading are in neither)."""
    script = ROOT / "benchmarks" / "_bare_sweep.py"
    processes = [subprocess.Popen([sys.executable, str(script), "jpeg2000", "4000", str(k), str(shares)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for k in range(shares)]
    ready = [p.stdout.readline().strip() == "ready" for p in processes]
    for p in processes:  # the word to all before waiting for any
        p.stdin.write("go\n")
        p.stdin.close()
    outputs = [p.stdout.read().split() for p in processes]
    for p in processes:
        p.wait()
    if not all(ready) or any(p.returncode for p in processes):
        raise SystemExit("the bare jpeg2000 loop failed: its figures would not be the work asked for")
    loops = [float(words[-1]) for words in outputs]
    return Sample(max(loops), sum(loops))


def floor_seconds(folder: Path) -> tuple[float, int]:
    """The codecs' own seconds over the workers the run used, and that worker count."""
    jobs = int(json.loads((folder / "manifest.json").read_text())["run"]["jobs"])
    return codec_seconds(folder) / jobs, jobs


def with_floor(args: list[str], floors: list[tuple[float, int]]):
    return lambda: run_cli(args, inspect=lambda folder: floors.append(floor_seconds(folder)))


def planned_seconds(folder: Path) -> float:
    """The run's own clock from planning to the start of its finish (manifest ``seconds``): the
    workers' phase, their start and the summary; the rest of the wall time is the process's
    start-up before planning, the finish (figures, tables, report) and its exit."""
    return float(json.loads((folder / "manifest.json").read_text())["seconds"])


def with_phases(args: list[str], phases: list[float]):
    return lambda: run_cli(args, inspect=lambda folder: phases.append(planned_seconds(folder)))


def over_floor(samples, floors) -> list[float]:
    """Each run's wall time over its codecs' floor."""
    return [s.wall / floor for s, (floor, _) in zip(samples, floors, strict=True)]


def floor_check(name: str, samples, floors, target: float):
    ratios = over_floor(samples, floors)
    jobs = {j for _, j in floors}
    print(f"{name}: wall {spread(samples)}, CPU {median(s.cpu for s in samples):.1f} s; the codecs' floor "
          f"{median(f for f, _ in floors):.2f} s (encode_s + decode_s over {'/'.join(map(str, sorted(jobs)))} "
          f"workers); wall / floor per run: {', '.join(f'{r:.2f}' for r in ratios)}")
    return at_most(f"{name}: wall / codecs' floor", median(ratios), target, "x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, help="runs of each case (default 5, --quick 2)")
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    repeat = options.repeat or (2 if options.quick else 5)
    compile_packages()
    print(f"{load_note()}; {repeat} runs of each case, the cases in turn")
    sweep_floors, no_figures_floors, photo_floors, jobs1_planned, jobs2_planned = [], [], [], [], []
    samples = interleave({
        "sweep": with_floor(SWEEP, sweep_floors),
        "sweep, no figures": with_floor([*SWEEP, "--no-figures"], no_figures_floors),
        "photos": with_floor(PHOTOS, photo_floors),
        "jobs 1": with_phases([*SCALING, "--jobs", "1"], jobs1_planned),
        "jobs 2": with_phases([*SCALING, "--jobs", "2"], jobs2_planned),
        "jobs 1, no figures": lambda: run_cli([*SCALING, "--jobs", "1", "--no-figures"]),
        "jobs 2, no figures": lambda: run_cli([*SCALING, "--jobs", "2", "--no-figures"]),
        "main job": lambda: run_cli(MAIN_JOB),
        "bare, 1 process": lambda: bare_coding(1),
        "bare, 2 processes": lambda: bare_coding(2),
    }, repeat, progress=True)
    print(f"({load_note()} at the end)\n")
    checks = [floor_check("default MNIST sweep", samples["sweep"], sweep_floors, SWEEP_FLOOR_TARGET),
              floor_check("skimage photographs sweep", samples["photos"], photo_floors, PHOTOS_FLOOR_TARGET)]
    print(f"  the sweep with --no-figures (not judged): wall {spread(samples['sweep, no figures'])}, wall / floor "
          f"{median(over_floor(samples['sweep, no figures'], no_figures_floors)):.2f}")
    speedup = paired_ratio(samples["jobs 1"], samples["jobs 2"])
    pairs = ", ".join(f"{r:.2f}" for r in pair_ratios(samples["jobs 1"], samples["jobs 2"]))
    print(f"jpeg2000 sweep over 4,000 digits: --jobs 1 {spread(samples['jobs 1'])}, --jobs 2 "
          f"{spread(samples['jobs 2'])}; jobs 1 / jobs 2 per pair: {pairs}")
    # what of the wall time scales with --jobs and what does not, from the same runs
    planned = [p1 / p2 for p1, p2 in zip(jobs1_planned, jobs2_planned, strict=True)]
    rest = {jobs: [s.wall - p for s, p in zip(samples[f"jobs {jobs}"], phase, strict=True)]
            for jobs, phase in ((1, jobs1_planned), (2, jobs2_planned))}
    print(f"  of which planning to finish (the workers' phase; manifest seconds): jobs 1 {median(jobs1_planned):.2f} s, "
          f"jobs 2 {median(jobs2_planned):.2f} s, ratio {median(planned):.2f}; the rest (start-up, figures, "
          f"tables, report, exit): {median(rest[1]):.2f} s and {median(rest[2]):.2f} s")
    print(f"  with --no-figures (not judged): --jobs 1 {spread(samples['jobs 1, no figures'])}, --jobs 2 "
          f"{spread(samples['jobs 2, no figures'])}; jobs 1 / jobs 2 "
          f"{paired_ratio(samples['jobs 1, no figures'], samples['jobs 2, no figures']):.2f}x")
    ceiling = paired_ratio(samples["bare, 1 process"], samples["bare, 2 processes"])
    print(f"  the codecs alone (the same coding, no harness; loops only): 1 process {spread(samples['bare, 1 process'])}, "
          f"2 processes at once {spread(samples['bare, 2 processes'])} (the longer of the two); this machine's "
          f"ceiling {ceiling:.2f}x, of which the harness reaches {speedup / ceiling:.0%}")
    checks.append(at_least("jpeg2000 sweep, 4,000 digits: jobs 1 / jobs 2 wall", speedup, SCALING_TARGET, "x"))
    print(f"main job: wall {spread(samples['main job'])}, CPU {median(s.cpu for s in samples['main job']):.1f} s")
    checks.append(at_most("main job (ddcae,jpeg,jpeg2000, 10,000 digits): wall",
                          median(s.wall for s in samples["main job"]), MAIN_JOB_TARGET, " s"))
    return verdict_table(checks)


if __name__ == "__main__":
    sys.exit(main())

"""The report of a sweep: its size and the time to write it, for the default MNIST sweep (31
settings x 10,000 images: 310,000 records) and the photographs' sweep (scikit-image's 19, five
codecs over their ladders).

For each case the sweep runs once through ``compbench.api.run`` with the end of the run timed
in parts: everything after the last unit (figures, tables, manifest, report), the figures, and
the report alone. Then the report is written again from the stored folder
(``compbench report``: records.csv read a chunk at a time). Targets, per case:

- report written in <= 3 s of CPU by the run, after its figures (0.1's finish took ~20 s)
- report.html <= 20 MB (plotly.js alone is 4.8 MB of it)

The machine is shared, so the verdicts are on CPU seconds of this process (the report is
written by one process, so its CPU time is what it cost); wall times are printed beside them.
Exits 1 on a MISS.

Run: python benchmarks/bench_report.py [--case mnist|photos] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from _common import Check, at_most, verdict_table

from compbench import api, pipeline
from compbench.pipeline import finish as finish_module
from compbench.present import grids
from compbench.present.report import read_inputs, write_report

CASES = {
    "mnist": {"codecs": "ddcae,jpeg,jpeg2000", "sweep": True},
    "photos": {"codecs": "jpeg,jpeg2000,webp,avif,jpegxl", "dataset": "skimage", "sweep": True},
}
WRITE_TARGET_S = 3.0
SIZE_TARGET_MB = 20.0


class Timer:
    """Wall and CPU seconds of every call of the functions it wraps, by name."""

    def __init__(self) -> None:
        self.spent: dict[str, tuple[float, float]] = {}

    def wrap(self, name: str, function):
        def timed(*args, **kwargs):
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[name] = (time.perf_counter() - wall, time.process_time() - cpu)
        return timed


@contextlib.contextmanager
def timed_finish(timer: Timer):
    """The run's finish, figures and report write, timed where the pipeline calls them."""
    patched = [(pipeline, "finish_run", timer.wrap("after the last unit", pipeline.finish_run)),
               (finish_module, "write_report", timer.wrap("report", finish_module.write_report)),
               (grids, "write_run_figures", timer.wrap("figures", grids.write_run_figures))]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patched]
    for owner, name, replacement in patched:
        setattr(owner, name, replacement)
    try:
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def run_case(name: str, out: Path) -> list[Check]:
    timer = Timer()
    with timed_finish(timer):
        result = api.run(**CASES[name], out=out, progress=False)
    records = int(result.summary[result.summary["class"] == "all"]["count"].sum())
    size_mb = (out / "report.html").stat().st_size / 1e6
    print(f"\n{name}: {records:,} records, {result.summary['setting'].nunique()} settings, run {result.manifest['seconds']:.0f} s")
    for part, (wall, cpu) in timer.spent.items():
        print(f"  {part}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    wall, cpu = time.perf_counter(), time.process_time()
    stored = write_report(out, read_inputs(out), out_name="report_from_folder.html")  # the run's stays
    print(f"  compbench report (stored folder, records.csv in chunks): {time.perf_counter() - wall:.2f} s wall, "
          f"{time.process_time() - cpu:.2f} s CPU, {stored.stat().st_size / 1e6:.1f} MB")
    return [at_most(f"report written by the run ({name}), CPU", timer.spent["report"][1], WRITE_TARGET_S, unit=" s"),
            at_most(f"report.html size ({name})", size_mb, SIZE_TARGET_MB, unit=" MB", fmt=".1f")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=[*CASES, "all"], default="all")
    parser.add_argument("--keep", type=Path, help="write the runs' folders here (default: a temporary folder)")
    args = parser.parse_args()
    cases = list(CASES) if args.case == "all" else [args.case]
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        checks = [check for name in cases for check in run_case(name, root / name)]
    return verdict_table(checks)


if __name__ == "__main__":
    sys.exit(main())

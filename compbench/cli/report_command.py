"""``compbench report``: (re)write a results folder's report.html."""

from __future__ import annotations

from pathlib import Path


def add_parser(commands) -> None:
    report = commands.add_parser("report", help="write report.html for a results folder")
    report.add_argument("results_dir", type=Path, help="a results folder written by compbench run")
    report.add_argument("--compare-at", metavar="METRIC=VALUE",
                        help="the rate or quality the matched-rate comparison uses, e.g. bpp=0.5 or psnr=32 "
                             "(default: the run's, else the median bpp)")
    report.set_defaults(handler=main)


def main(args, rest) -> int:
    from ..present.report import read_inputs, write_report

    print(f"report: {write_report(args.results_dir, read_inputs(args.results_dir, args.compare_at))}")
    return 0

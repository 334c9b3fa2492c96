"""``compbench report``: (re)write a results folder's report.html."""

from __future__ import annotations

from pathlib import Path


def add_parser(commands) -> None:
    report = commands.add_parser("report", help="write report.html for a results folder")
    report.add_argument("results_dir", type=Path, help="a results folder written by compbench run")
    report.set_defaults(handler=main)


def main(args, rest) -> int:
    from ..api import report

    print(f"report: {report(args.results_dir)}")
    return 0

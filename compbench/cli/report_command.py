"""``compbench report``: (re)write a results folder's report.html."""

from __future__ import annotations

from pathlib import Path


def add_parser(commands) -> None:
    report = commands.add_parser("report", help="write report.html for a results folder")
    report.add_argument("results_dir", type=Path, help="a results folder written by compbench run")
    report.add_argument("--reference", type=Path, action="append", default=[], metavar="FILE",
                        help="a published curve (CompressAI results JSON, or CSV name,bpp,psnr,...) to measure the "
                             "run's codecs against, kept in the folder (references.csv, bdrate_references.csv); "
                             "repeatable")
    report.set_defaults(handler=main)


def main(args, rest) -> int:
    from ..present.report import write_report

    if args.reference:
        from ..analysis.references import read_references
        from ..pipeline.references import attach_references

        attach_references(args.results_dir, read_references(args.reference))
    print(f"report: {write_report(args.results_dir)}")
    return 0

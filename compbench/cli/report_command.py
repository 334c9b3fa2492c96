"""``compbench report``: (re)write a results folder's report.html."""

from __future__ import annotations

from pathlib import Path

from .arguments import add_command

DESCRIPTION = """\
Write report.html, one self-contained page (images embedded, opens offline), for a results
folder, from what the folder holds: summary.csv, manifest.json, bdrate.csv, the failed images
in records.csv and the figures. A run writes its report itself; this rewrites it, e.g. after
editing the folder or upgrading compbench. A damaged file becomes a note on the page.
"""
EXAMPLES = """\
compbench report results/mine    # rewrites results/mine/report.html
compbench report results/mine --reference kodak/jpeg.json   # published curves beside the run's
"""


def add_parser(commands) -> None:
    report = add_command(commands, "report", summary="(re)write report.html for a results folder",
                         description=DESCRIPTION, examples=EXAMPLES)
    report.add_argument("results_dir", type=Path, metavar="RESULTS",
                        help="a results folder written by compbench run (or by compbench.api.run)")
    report.add_argument("--reference", type=Path, action="append", default=[], metavar="FILE",
                        help="a published curve (CompressAI results JSON, or CSV name,bpp,psnr,...) to measure the "
                             "run's codecs against, kept in the folder (references.csv, bdrate_references.csv); "
                             "repeatable")
    report.set_defaults(handler=main)


def main(args, rest) -> int:
    from ..api import report

    if args.reference:
        from ..analysis.references import read_references
        from ..pipeline.references import attach_references

        attach_references(args.results_dir, read_references(args.reference))
    print(f"report: {report(args.results_dir)}")
    return 0

"""``compbench compare``: a run against a baseline; exit 1 on a regression."""

from __future__ import annotations

from pathlib import Path

from .arguments import add_command
from .gate import add_tolerance_options, run_comparison

DESCRIPTION = """\
Compare a run with a baseline, row by row (codec, setting, dataset, split, class), knowing which
way each metric is better; print what moved, write comparison.md and comparison.json, and exit
1 on a regression, 2 on runs that do not match (a gated metric on one side only, a damaged
summary). Tolerances: --tolerance, or [tool.compbench.compare.tolerances] in pyproject.toml.
"""
EXAMPLES = """\
compbench compare results/baselines/mnist-test-1k results/new
compbench compare BASE NEW --tolerance psnr=0.05 --tolerance bpp=1%
compbench compare BASE NEW --gate-metrics psnr,bpp   # gate only these
"""


def add_parser(commands) -> None:
    compare = add_command(commands, "compare", summary="compare a run with a baseline; exit 1 on a regression",
                          description=DESCRIPTION, examples=EXAMPLES)
    compare.add_argument("baseline", type=Path, metavar="BASELINE", help="baseline results folder or summary.csv")
    compare.add_argument("new", type=Path, metavar="NEW", help="new results folder or summary.csv")
    add_tolerance_options(compare)
    compare.add_argument("--markdown", type=Path, metavar="FILE", help="write the comparison as Markdown here "
                         "(default: comparison.md in NEW when it is a folder)")
    compare.add_argument("--json", type=Path, metavar="FILE", help="write the comparison as JSON here "
                         "(default: comparison.json in NEW when it is a folder)")
    compare.set_defaults(handler=main)


def main(args, rest) -> int:
    return run_comparison(args.baseline, args.new, args, default_out=args.new if args.new.is_dir() else None)

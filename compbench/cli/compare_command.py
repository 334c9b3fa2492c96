"""``compbench compare``: a run against a baseline; exit 1 on a regression."""

from __future__ import annotations

from pathlib import Path

from .gate import add_tolerance_options, run_comparison


def add_parser(commands) -> None:
    compare = commands.add_parser("compare", help="compare a run with a baseline; exit 1 on a regression")
    compare.add_argument("baseline", type=Path, help="baseline results folder or summary.csv")
    compare.add_argument("new", type=Path, help="new results folder or summary.csv")
    add_tolerance_options(compare)
    compare.add_argument("--markdown", type=Path, help="write the comparison as Markdown here "
                         "(default: comparison.md in NEW when it is a folder)")
    compare.add_argument("--json", type=Path, help="write the comparison as JSON here "
                         "(default: comparison.json in NEW when it is a folder)")
    compare.set_defaults(handler=main)


def main(args, rest) -> int:
    return run_comparison(args.baseline, args.new, args, default_out=args.new if args.new.is_dir() else None)

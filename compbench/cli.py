"""The command line: a thin layer over :mod:`compbench.api`.

User mistakes raise CompbenchError: one line on stderr, exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tabulate import tabulate

from . import __version__, api
from .errors import CompbenchError
from .results import ALL, class_table, overall_table


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) like every other compbench error."""

    def error(self, message: str):
        raise CompbenchError(f"{message} (see: {self.prog} --help)")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="compbench", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"compbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    listing = commands.add_parser("list", help="codecs, datasets and trainers, with parameters and availability")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_list)

    run = commands.add_parser("run", help="run codecs over a dataset and write a results folder")
    run.add_argument("--codecs", default=api.DEFAULT_CODECS,
                     help="codec specs, e.g. 'jpeg:quality=50,jpeg2000:psnr=30' or 'jpeg:quality=10..90/10' "
                          f"(default: {api.DEFAULT_CODECS})")
    run.add_argument("--dataset", default="mnist", help="dataset name (default: mnist)")
    run.add_argument("--split", help="dataset split (default: the dataset's test split)")
    run.add_argument("--limit", type=positive_int, help="use only the first N images")
    run.add_argument("--per-class", type=positive_int, help="use only the first N images of each class")
    run.add_argument("--sweep", action="store_true", help="run each codec over its default quality ladder")
    run.add_argument("--out", type=Path, help="results folder (default: results/<time>-<codecs>/)")
    run.add_argument("--jobs", type=positive_int, help="worker processes (default: one per core)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.set_defaults(handler=cmd_run)

    train = commands.add_parser("train", help="train a learned codec (options depend on it: compbench train NAME --help)",
                                add_help=False)
    train.add_argument("name", nargs="?", help="the codec to train, e.g. ddcae")
    train.set_defaults(handler=cmd_train)
    return parser


def cmd_list(args, rest) -> int:
    described = api.describe_plugins()
    if args.json:
        print(json.dumps(described, indent=2, default=str))
        return 0
    for kind in ("codecs", "datasets", "trainers"):
        rows = []
        for item in described[kind]:
            status = "yes" if item["available"] else f"no: {item['reason']} (fix: {item['fix']})"
            detail = ", ".join(f"{p['name']}={p['default']} [{p['range']}]" for p in item.get("params", []))
            if kind == "datasets":
                detail = f"splits {'/'.join(item['splits'])}; {len(item['classes'])} classes"
            rows.append([item["name"], f"{item['distribution']} {item['version']}", detail, status,
                         item["description"]])
        print(f"{kind}:")
        print(tabulate(rows, headers=["name", "provided by", "parameters [range]", "available", "description"]))
        print()
    for failure in described["failed_plugins"]:
        print(f"warning: plugin {failure['plugin']!r} failed to load: {failure['error']}", file=sys.stderr)
    return 0


def cmd_run(args, rest) -> int:
    result = api.run(codecs=args.codecs, dataset=args.dataset, split=args.split, limit=args.limit,
                     per_class=args.per_class, out=args.out, jobs=args.jobs, sweep=args.sweep,
                     progress=not args.quiet)
    summary = result.summary
    settings = list(dict.fromkeys(summary["setting"]))
    if len(settings) <= 4:
        print(class_table(summary, tablefmt="simple"))
    else:  # a sweep: the per-class tables are in summary.md
        print(overall_table(summary, tablefmt="simple"))
    errors = int(summary.loc[summary["class"] == ALL, "errors"].sum())
    if errors:
        print(f"warning: {errors} image(s) failed; see the 'error' column of records.csv", file=sys.stderr)
    print(f"results: {result.out_dir}  ({result.manifest['seconds']:.1f}s)")
    return 0


def cmd_train(args, rest) -> int:
    from .training_cli import run_training

    return run_training(args.name, rest)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, rest = parser.parse_known_args(argv)
        if rest and args.command != "train":
            raise CompbenchError(f"unrecognized arguments: {' '.join(rest)} (see: compbench {args.command} --help)")
        return args.handler(args, rest)
    except CompbenchError as exc:
        print(f"compbench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("compbench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

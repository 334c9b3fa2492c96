"""``compbench run``: codecs over a dataset into a results folder, and the regression gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..contracts.errors import CompbenchError
from ..defaults import DEFAULT_ANCHOR, DEFAULT_CODECS, DEFAULT_DATASET, DEFAULT_TIMEOUT, EXECUTORS
from .arguments import folder_path, positive_float, positive_int
from .gate import add_tolerance_options, run_comparison


def add_parser(commands) -> None:
    run = commands.add_parser("run", help="run codecs over a dataset and write a results folder")
    run.add_argument("--codecs", default=DEFAULT_CODECS,
                     help="codec specs, e.g. 'jpeg:quality=50,jpeg2000:psnr=30' or 'jpeg:quality=10..90/10' "
                          f"(default: {DEFAULT_CODECS})")
    run.add_argument("--dataset", default=DEFAULT_DATASET,
                     help="dataset name, with parameters as name:key=value (default: mnist)")
    run.add_argument("--split", help="dataset split (default: the dataset's test split)")
    run.add_argument("--limit", type=positive_int, help="use only the first N images")
    run.add_argument("--per-class", type=positive_int, help="use only the first N images of each class")
    run.add_argument("--sweep", action="store_true", help="run each codec over its default quality ladder")
    run.add_argument("--out", type=folder_path, help="results folder (default: results/<time>-<codecs>/); "
                     "refused if it holds another run, unless --resume or --overwrite")
    run.add_argument("--overwrite", action="store_true", help="replace the run in --out whole")
    run.add_argument("--allow-errors", action="store_true",
                     help="exit 0 even when images failed (default: exit 1 after writing everything)")
    run.add_argument("--jobs", type=positive_int, help="worker processes (default: one per core)")
    run.add_argument("--executor", choices=EXECUTORS, default="local",
                     help="where the work runs: local worker processes, or Dask (a local cluster of --jobs "
                          "workers, or the one at --scheduler; needs compbench[dask])")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="with --executor dask: the address of a running Dask scheduler")
    run.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT,
                     help="seconds one image may take to encode (or decode) before it is recorded as "
                          f"timed out and its worker replaced (default: {DEFAULT_TIMEOUT:g}; a batch "
                          "call gets this per image)")
    run.add_argument("--resume", action="store_true",
                     help="continue the interrupted run in --out: run only the images records.csv lacks "
                          "(the command must be the run's own)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--anchor", default=DEFAULT_ANCHOR,
                     help=f"codec that BD-rate/BD-PSNR compare against (default: {DEFAULT_ANCHOR})")
    run.add_argument("--table-format", default="simple",
                     help="terminal table format (tabulate): simple, github, latex, latex_booktabs, ...; "
                          "a non-Markdown format is also written as summary.<ext>")
    run.add_argument("--figure-format", default="png", help="figure formats, e.g. png,svg (default: png)")
    run.add_argument("--no-figures", action="store_true", help="write no plots or image grids")
    run.add_argument("--paper-figures", action=argparse.BooleanOptionalAction, default=None,
                     help="draw the DDCAE paper's Figs. 6 and 8-10 (default: for MNIST-like datasets only)")
    run.add_argument("--compare-at", metavar="METRIC=VALUE",
                     help="the rate or quality the visual comparisons and per-class bars match, e.g. bpp=0.5 "
                          "or psnr=32 (default: the median bpp of the run's settings)")
    run.add_argument("--metrics-extra", default="", metavar="NAME[,NAME...]",
                     help="optional metrics to measure too, costly ones not measured by default "
                          "(see compbench list)")
    run.add_argument("--rd-metrics", help="quality metrics of the RD plots and BD tables, e.g. psnr,ms_ssim "
                     "(default: psnr,ssim; any metric declared as a quality axis, a plugin's too)")
    gate = run.add_argument_group("regression gate (compare the run with a stored baseline)")
    gate.add_argument("--baseline", type=Path, help="baseline results folder or summary.csv")
    gate.add_argument("--fail-on-regression", action="store_true", help="exit 1 if a metric regressed")
    add_tolerance_options(gate)
    run.set_defaults(handler=main)


def main(args, rest) -> int:
    if args.fail_on_regression and not args.baseline:
        raise CompbenchError("--fail-on-regression needs --baseline PATH (a stored results folder)")
    if args.baseline:  # fail before the run, not after it
        from ..store.folder import check_not_inside

        if not args.baseline.exists():
            raise CompbenchError(f"baseline {args.baseline} does not exist; give a results folder or summary.csv")
        if args.out is not None:
            check_not_inside(args.out, args.baseline)
    from .. import api

    formats = tuple(f.strip() for f in args.figure_format.split(",") if f.strip())
    result = api.run(codecs=args.codecs, dataset=args.dataset, split=args.split, limit=args.limit,
                     per_class=args.per_class, out=args.out, jobs=args.jobs, sweep=args.sweep,
                     progress=not args.quiet, figures=not args.no_figures, figure_formats=formats,
                     anchor=args.anchor, table_format=args.table_format, resume=args.resume,
                     overwrite=args.overwrite, rd_metrics=args.rd_metrics, timeout=args.timeout,
                     executor=args.executor, scheduler=args.scheduler,
                     metrics_extra=args.metrics_extra, paper_figures=args.paper_figures,
                     compare_at=args.compare_at)
    summary = result.summary
    shown_format = print_tables(result, args)
    for name, refused in result.manifest.get("not_applicable", {}).items():
        reasons = refused["reasons"]
        more = f" (and {len(reasons) - 2} more sizes: manifest.json)" if len(reasons) > 2 else ""
        print(f"note: {name} is not applicable to {refused['images']} of {refused['of']} images of "
              f"{args.dataset}: {'; '.join(reasons[:2])}{more}", file=sys.stderr)
    for setting, notes in result.manifest.get("notes", {}).items():
        for note in notes:
            print(f"warning: {setting}: {note}", file=sys.stderr)
    report_dataset_notes(result.manifest)
    print(f"results: {result.out_dir}  ({result.manifest['seconds']:.1f}s; report: "
          f"{result.out_dir / 'report.html'})")
    if shown_format != args.table_format:
        from ..present.tables import TABLE_FORMATS

        print(f"tables ({args.table_format}): {result.out_dir / ('summary.' + TABLE_FORMATS[args.table_format])}")
    status = 0
    failed = report_failures(summary)
    if failed and not args.allow_errors:
        status = 1
    if args.baseline:
        print(f"\ncompared with {args.baseline}:")
        gate = run_comparison(args.baseline, result.out_dir, args, default_out=result.out_dir)
        if args.fail_on_regression:
            status = max(status, gate)
    return status


def print_tables(result, args) -> str:
    """The run's tables on the terminal (LaTeX, HTML...: written to summary.<ext>, the terminal
    keeps tables it can show); returns the format printed in."""
    from ..present.tables import class_table, overall_table, terminal_format

    summary = result.summary
    shown_format = terminal_format(args.table_format)
    if summary["setting"].nunique() <= 4:
        print(class_table(summary, tablefmt=shown_format))
    else:  # a sweep: the per-class tables are in summary.md and report.html
        print(overall_table(summary, tablefmt=shown_format))
    if result.bdrate is not None:
        from ..analysis.bdrate import format_bd_table
        from ..store.summary import ALL

        overall = result.bdrate[result.bdrate["class"] == ALL]
        for quality, table in overall.groupby("quality", sort=False):
            print(f"\nBD metrics against {args.anchor} ({quality}):")
            print(format_bd_table(table, tablefmt=shown_format))
    return shown_format


def report_dataset_notes(manifest: dict, shown: int = 20) -> None:
    """Files the dataset skipped (each with its reason) and converted, on stderr; the manifest
    lists them all."""
    skipped = list(manifest.get("dataset_skipped", {}).items())
    for name, reason in skipped[:shown]:
        print(f"note: skipped {name}: {reason}", file=sys.stderr)
    if len(skipped) > shown:
        print(f"note: ... and {len(skipped) - shown} more skipped (manifest.json: dataset_skipped)", file=sys.stderr)
    converted = manifest.get("dataset_conversions", {})
    if converted:
        print(f"note: {len(converted)} image(s) converted to 8-bit gray or RGB, e.g. "
              f"{next(iter(converted))}: {next(iter(converted.values()))} (manifest.json: dataset_conversions)",
              file=sys.stderr)


def report_failures(summary) -> int:
    """Warn about failed images on stderr, naming every setting that failed on all of them;
    return the number of failed images."""
    from ..store.summary import ALL

    if summary.empty:
        return 0
    overall = summary[summary["class"] == ALL]
    errors = int(overall["errors"].sum())
    if errors:
        print(f"warning: {errors} image(s) failed; see the 'error' column of records.csv", file=sys.stderr)
        for _, row in overall[(overall["count"] == 0) & (overall["errors"] > 0)].iterrows():
            print(f"warning: {row['setting']} failed on every image ({row['errors']})", file=sys.stderr)
    return errors

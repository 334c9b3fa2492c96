"""``compbench run``: codecs over a dataset into a results folder, and the regression gate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..contracts.errors import CompbenchError
from ..defaults import DEFAULT_ANCHOR, DEFAULT_CODECS, DEFAULT_DATASET, DEFAULT_TIMEOUT, EXECUTORS
from .arguments import add_command, folder_path, positive_float, positive_int
from .gate import add_scope_options, add_tolerance_options, run_gates

DESCRIPTION = """\
Run codecs over a dataset's images and write a results folder: records.csv (one row per
setting and image), summary.csv and .md, manifest.json, figures and report.html.

A codec spec is name[:key=value[:key=value]]; codecs are separated by commas, and a key=value
after a comma continues the previous codec (jpeg2000:psnr=30,numres=2). A value may be a range
start..stop/step (one setting per value; a range of more than 20 values needs its step) or a
list a|b|c. `compbench list` shows every codec's parameters, ranges and --sweep ladder.
"""
EXAMPLES = """\
compbench run --codecs jpeg:quality=50,jpeg2000:psnr=30 --limit 1000
compbench run --codecs jpeg:quality=10..90/10   # 9 settings (or 10|50|90)
compbench run --codecs ddcae,jpeg,jpeg2000 --sweep   # each over its ladder
compbench run --dataset folder:path=~/photos --codecs jpeg,webp,avif --sweep
compbench run --codecs jpeg --baseline results/base --fail-on-regression
compbench run --codecs jpeg:quality=10..90/20 --baseline results/base --fail-on-bd-rate 1
compbench run --sweep --reference kodak/compressai-mbt2018_mse_cpu.json   # published curve beside
compbench run --codecs jpeg --out results/run1 --resume  # after Ctrl-C
"""


def add_parser(commands) -> None:
    run = add_command(commands, "run", summary="run codecs over a dataset and write a results folder",
                      description=DESCRIPTION, examples=EXAMPLES)
    run.add_argument("--codecs", metavar="SPEC[,SPEC...]",
                     help="codec specs, e.g. jpeg:quality=50,jpeg2000:psnr=30 or jpeg:quality=10..90/10 "
                          f"(default: {DEFAULT_CODECS}); with --baseline, the gate covers these codecs")
    run.add_argument("--dataset", default=DEFAULT_DATASET, metavar="NAME[:key=value...]",
                     help=f"dataset, with parameters as name:key=value, e.g. folder:path=DIR (default: "
                          f"{DEFAULT_DATASET})")
    run.add_argument("--split", help="dataset split (default: the dataset's test split)")
    run.add_argument("--limit", type=positive_int, metavar="N", help="use only the first N images")
    run.add_argument("--per-class", type=positive_int, metavar="N", help="use only the first N images of each class")
    run.add_argument("--sweep", action="store_true",
                     help="run each codec over its quality ladder (the ladders: compbench list), unless its "
                          "spec gives a rate")
    run.add_argument("--out", type=folder_path, metavar="DIR", help="results folder (default: results/<time>-<codecs>/); "
                     "refused if it holds another run, unless --resume or --overwrite")
    run.add_argument("--overwrite", action="store_true", help="replace the run in --out whole")
    run.add_argument("--allow-errors", action="store_true",
                     help="exit 0 even when images failed (default: exit 1 after writing everything)")
    run.add_argument("--jobs", type=positive_int, metavar="N", help="worker processes (default: one per core this process may use)")
    run.add_argument("--executor", choices=EXECUTORS, default="local",
                     help="where the work runs: local worker processes, or Dask (a local cluster of --jobs "
                          "workers, or the one at --scheduler; needs compbench[dask])")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="with --executor dask: the address of a running Dask scheduler")
    run.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                     help="seconds one image may take to encode (or decode) before it is recorded as "
                          f"timed out and its worker replaced (default: {DEFAULT_TIMEOUT:g}; a batch "
                          "call gets this per image)")
    run.add_argument("--resume", action="store_true",
                     help="continue the interrupted run in --out: run only the images records.csv lacks "
                          "(the command must be the run's own)")
    run.add_argument("--retry-failed", action="store_true",
                     help="with --resume: run again the images that failed or timed out (e.g. with a larger "
                          "--timeout); images lost to the infrastructure are always run again")
    run.add_argument("--quiet", action="store_true", help="no progress on stderr")
    run.add_argument("--anchor", metavar="CODEC",
                     help=f"codec of the run that BD-rate/BD-PSNR compare against (default: {DEFAULT_ANCHOR} when "
                          "it ran at two or more settings, else the first codec that did)")
    run.add_argument("--reference", type=Path, action="append", default=[], metavar="FILE",
                     help="a published curve (CompressAI results JSON, or CSV name,bpp,psnr,...) drawn on the RD "
                          "plots and measured against the run's codecs (bdrate_references.csv); repeatable")
    run.add_argument("--table-format", default="simple", metavar="FORMAT",
                     help="terminal table format (tabulate): simple, github, latex, latex_booktabs, ...; "
                          "a non-Markdown format is also written as summary.<ext>")
    add_presentation_options(run)
    run.add_argument("--metrics-extra", default="", metavar="NAME[,NAME...]",
                     help="optional metrics to measure as well, costly ones off by default, e.g. ssimulacra2 "
                          "(the list: compbench list)")
    run.add_argument("--rd-metrics", metavar="NAME[,NAME...]",
                     help="quality axes of the RD plots and BD tables, e.g. psnr,ms_ssim (default: psnr,ssim; "
                          "any metric declared as a quality axis); what is gated is --gate-metrics")
    gate = run.add_argument_group("regression gate (compare the run with a stored baseline)")
    gate.add_argument("--baseline", type=Path, metavar="RESULTS", help="baseline results folder or summary.csv")
    gate.add_argument("--fail-on-regression", action="store_true", help="exit 1 if a metric regressed")
    add_scope_options(gate)
    add_tolerance_options(gate)
    run.set_defaults(handler=main)


def add_presentation_options(run) -> None:
    """What the figures and report show: formats, the paper's figures, the matched-rate comparison."""
    run.add_argument("--figure-format", default="png", metavar="FORMAT[,FORMAT]", help="figure formats, e.g. png,svg (default: png)")
    run.add_argument("--no-figures", action="store_true", help="write no plots or image grids")
    run.add_argument("--paper-figures", action=argparse.BooleanOptionalAction, default=None,
                     help="draw the DDCAE paper's Figs. 6 and 8-10 (default: for MNIST-like datasets only)")
    run.add_argument("--compare-at", metavar="METRIC=VALUE",
                     help="the rate or quality the visual comparisons and per-class bars match, e.g. bpp=0.5 "
                          "or psnr=32 (default: the median bpp of the run's settings)")


def main(args, rest) -> int:
    check_before_run(args)
    from .. import api

    formats = tuple(f.strip() for f in args.figure_format.split(",") if f.strip())
    result = api.run(codecs=args.codecs, dataset=args.dataset, split=args.split, limit=args.limit,
                     per_class=args.per_class, out=args.out, jobs=args.jobs, sweep=args.sweep,
                     progress=not args.quiet, figures=not args.no_figures, figure_formats=formats,
                     anchor=args.anchor, table_format=args.table_format, resume=args.resume,
                     overwrite=args.overwrite, retry_failed=args.retry_failed, rd_metrics=args.rd_metrics, timeout=args.timeout,
                     executor=args.executor, scheduler=args.scheduler,
                     metrics_extra=args.metrics_extra, references=tuple(args.reference),
                     paper_figures=args.paper_figures, compare_at=args.compare_at)
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
    for fact in ("jobs_limited", "jobs_over_cores"):
        if why := result.manifest.get("run", {}).get(fact):
            print(f"note: {why}", file=sys.stderr)
    print(f"results: {result.out_dir}  ({result.manifest['seconds']:.1f}s; report: "
          f"{result.out_dir / 'report.html'})")
    if shown_format != args.table_format:
        from ..present.table_formats import TABLE_FORMATS

        print(f"tables ({args.table_format}): {result.out_dir / ('summary.' + TABLE_FORMATS[args.table_format])}")
    status = 0
    failed = report_failures(summary)
    if failed and not args.allow_errors:
        status = 1
    if args.baseline:
        status = max(status, run_gates(args.baseline, result.out_dir, args))
    return status


def print_tables(result, args) -> str:
    """The run's tables on the terminal (LaTeX, HTML...: written to summary.<ext>, the terminal
    keeps tables it can show); returns the format printed in."""
    from ..present.run_bd_text import run_bd_text
    from ..present.table_formats import terminal_format
    from ..present.tables import class_table, overall_table

    summary = result.summary
    shown_format = terminal_format(args.table_format)
    if summary["setting"].nunique() <= 4:
        print(class_table(summary, tablefmt=shown_format))
    else:  # a sweep: the per-class tables are in summary.md and report.html
        print(overall_table(summary, tablefmt=shown_format))
    bd_tables, bd_notes = run_bd_text(result, shown_format)
    if bd_tables:
        print(bd_tables)
    for note in bd_notes:
        print(note, file=sys.stderr)
    return shown_format


def check_before_run(args) -> None:
    """What the command line alone can refuse, before the harness loads and the run starts."""
    args.codecs_given = args.codecs is not None  # the gate covers the codecs named, when they are
    args.codecs = args.codecs or DEFAULT_CODECS
    for flag, given in (("--fail-on-regression", args.fail_on_regression),
                        ("--fail-on-bd-rate", args.fail_on_bd_rate is not None), ("--only-common", args.only_common)):
        if given and not args.baseline:
            raise CompbenchError(f"{flag} needs --baseline PATH (a stored results folder)")
    if args.baseline:  # fail before the run, not after it
        from ..store.folder import check_not_inside

        if not args.baseline.exists():
            raise CompbenchError(f"baseline {args.baseline} does not exist; give a results folder or summary.csv")
        if args.out is not None:
            check_not_inside(args.out, args.baseline)
    from .preflight import check_names

    check_names(args)  # a mistyped name fails here, in a fraction of a second (cli/preflight.py)


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

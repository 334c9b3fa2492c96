"""The command line: a thin layer over :mod:`compbench.api`.

User mistakes raise CompbenchError: one line on stderr, exit code 2, no traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tabulate import tabulate

from .. import __version__, api
from ..contracts.errors import CompbenchError
from ..present.tables import class_table, overall_table
from ..run.allocator import return_freed_memory
from ..store.folder import check_not_inside
from ..store.summary import ALL
from .arguments import ArgumentParser, folder_path, positive_float, positive_int


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="compbench", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--version", action="version", version=f"compbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)

    listing = commands.add_parser("list", help="codecs, datasets and trainers, with parameters and availability")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=cmd_list)

    _add_run_command(commands)
    report = commands.add_parser("report", help="write report.html for a results folder")
    report.add_argument("results_dir", type=Path)
    report.set_defaults(handler=cmd_report)

    compare = commands.add_parser("compare", help="compare a run with a baseline; exit 1 on a regression")
    compare.add_argument("baseline", type=Path, help="baseline results folder or summary.csv")
    compare.add_argument("new", type=Path, help="new results folder or summary.csv")
    add_tolerance_options(compare)
    compare.add_argument("--markdown", type=Path, help="write the comparison as Markdown here "
                         "(default: comparison.md in NEW when it is a folder)")
    compare.add_argument("--json", type=Path, help="write the comparison as JSON here "
                         "(default: comparison.json in NEW when it is a folder)")
    compare.set_defaults(handler=cmd_compare)

    history = commands.add_parser("history", help="a metric across stored runs, as a table and a plot")
    history.add_argument("dirs", nargs="+", type=Path, help="results folders")
    history.add_argument("--metric", default="psnr", help="metric (default: psnr)")
    history.add_argument("--class", dest="class_name", default="all", help="class (default: all)")
    history.add_argument("--plot", type=Path, default=Path("history.png"),
                         help="where to draw the plot (default: history.png)")
    history.set_defaults(handler=cmd_history)

    train = commands.add_parser("train", help="train a learned codec (options depend on it: compbench train NAME --help)",
                                add_help=False)
    train.add_argument("name", nargs="?", help="the codec to train, e.g. ddcae")
    train.set_defaults(handler=cmd_train)


    return parser


def _add_run_command(commands) -> None:
    run = commands.add_parser("run", help="run codecs over a dataset and write a results folder")
    run.add_argument("--codecs", default=api.DEFAULT_CODECS,
                     help="codec specs, e.g. 'jpeg:quality=50,jpeg2000:psnr=30' or 'jpeg:quality=10..90/10' "
                          f"(default: {api.DEFAULT_CODECS})")
    run.add_argument("--dataset", default="mnist",
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
    run.add_argument("--executor", choices=api.EXECUTORS, default="local",
                     help="where the work runs: local worker processes, or Dask (a local cluster of --jobs "
                          "workers, or the one at --scheduler; needs compbench[dask])")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                     help="with --executor dask: the address of a running Dask scheduler")
    run.add_argument("--timeout", type=positive_float, default=api.DEFAULT_TIMEOUT,
                     help="seconds one image may take to encode (or decode) before it is recorded as "
                          f"timed out and its worker replaced (default: {api.DEFAULT_TIMEOUT:g}; a batch "
                          "call gets this per image)")
    run.add_argument("--resume", action="store_true",
                     help="continue the interrupted run in --out: run only the images records.csv lacks "
                          "(the command must be the run's own)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--anchor", default=api.DEFAULT_ANCHOR,
                     help=f"codec that BD-rate/BD-PSNR compare against (default: {api.DEFAULT_ANCHOR})")
    run.add_argument("--table-format", default="simple",
                     help="terminal table format (tabulate): simple, github, latex, latex_booktabs, ...; "
                          "a non-Markdown format is also written as summary.<ext>")
    run.add_argument("--figure-format", default="png", help="figure formats, e.g. png,svg (default: png)")
    run.add_argument("--no-figures", action="store_true", help="write no plots or image grids")
    run.add_argument("--metrics-extra", default="", metavar="NAME[,NAME...]",
                     help="optional metrics to measure too, costly ones not measured by default "
                          "(see compbench list)")
    run.add_argument("--rd-metrics", help="quality metrics of the RD plots and BD tables, e.g. psnr,ms_ssim "
                     "(default: psnr,ssim; any metric declared as a quality axis, a plugin's too)")
    gate = run.add_argument_group("regression gate (compare the run with a stored baseline)")
    gate.add_argument("--baseline", type=Path, help="baseline results folder or summary.csv")
    gate.add_argument("--fail-on-regression", action="store_true", help="exit 1 if a metric regressed")
    add_tolerance_options(gate)
    run.set_defaults(handler=cmd_run)


def add_tolerance_options(parser) -> None:
    parser.add_argument("--tolerance", action="append", default=[], metavar="METRIC=VALUE",
                        help="allowed move the wrong way: psnr=0.05 (absolute) or bpp=1%% (relative); "
                             "repeatable; overrides the config file")
    parser.add_argument("--config", type=Path, help="tolerance config (default: compbench.toml or "
                        "[tool.compbench.compare] in pyproject.toml, found from the current folder up)")
    parser.add_argument("--metrics", help="compare and gate only these metrics (comma-separated)")
    parser.add_argument("--include-timings", action="store_true", help="gate encode/decode times too")


def run_comparison(baseline: Path, new: Path, args, default_out: Path | None) -> int:
    """Compare, print the table, write Markdown and JSON; the exit code (0 pass, 1 regression)."""
    from ..analysis.compare import compare, exit_code
    from ..analysis.tolerances import discover_config, load_tolerances, parse_tolerance_flag
    from ..present.comparison import comparison_json, comparison_markdown, comparison_text

    config = args.config or discover_config()
    tolerances = load_tolerances(config) if config else {}
    tolerances.update(dict(parse_tolerance_flag(text) for text in args.tolerance))
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    comparison = compare(baseline, new, tolerances, metrics, args.include_timings)
    print(comparison_text(comparison))
    markdown = getattr(args, "markdown", None) or (default_out / "comparison.md" if default_out else None)
    as_json = getattr(args, "json", None) or (default_out / "comparison.json" if default_out else None)
    for path, text in ((markdown, comparison_markdown(comparison)), (as_json, comparison_json(comparison))):
        if path is not None:
            try:
                path.write_text(text)
            except OSError as exc:
                raise CompbenchError(f"cannot write {path} ({exc.strerror}); choose another path") from None
    return exit_code(comparison)


def cmd_list(args, rest) -> int:
    described = api.describe_plugins()
    if args.json:
        print(json.dumps(described, indent=2, default=str))
        return 0
    for kind in ("codecs", "datasets", "trainers", "metrics"):
        rows = []
        for item in described[kind]:
            status = "yes" if item["available"] else f"no: {item['reason']} (fix: {item['fix']})"
            detail = ", ".join(f"{p['name']}={p['default']} [{p['range']}]" for p in item.get("params", []))
            if kind == "metrics":
                detail = f"better: {item['better']}; " + (f"optional: --metrics-extra {item['name']}"
                                                         if item["optional"] else "always measured")
            if kind == "datasets":  # a folder's classes are known only once it is opened
                classes = f"; {len(item['classes'])} classes" if item["classes"] else ""
                detail = "; ".join(filter(None, [detail, f"splits {'/'.join(item['splits'])}{classes}"]))
            rows.append([item["name"], f"{item['distribution']} {item['version']}", detail, status,
                         item["description"]])
        print(f"{kind}:")
        print(tabulate(rows, headers=["name", "provided by", "parameters [range]", "available", "description"]))
        print()
    for failure in described["failed_plugins"]:
        print(f"warning: plugin {failure['plugin']!r} failed to load: {failure['error']}", file=sys.stderr)
    return 0


def cmd_run(args, rest) -> int:
    if args.fail_on_regression and not args.baseline:
        raise CompbenchError("--fail-on-regression needs --baseline PATH (a stored results folder)")
    if args.baseline:  # fail before the run, not after it
        if not args.baseline.exists():
            raise CompbenchError(f"baseline {args.baseline} does not exist; give a results folder or summary.csv")
        if args.out is not None:
            check_not_inside(args.out, args.baseline)
    formats = tuple(f.strip() for f in args.figure_format.split(",") if f.strip())
    result = api.run(codecs=args.codecs, dataset=args.dataset, split=args.split, limit=args.limit,
                     per_class=args.per_class, out=args.out, jobs=args.jobs, sweep=args.sweep,
                     progress=not args.quiet, figures=not args.no_figures, figure_formats=formats,
                     anchor=args.anchor, table_format=args.table_format, resume=args.resume,
                     overwrite=args.overwrite, rd_metrics=args.rd_metrics, timeout=args.timeout,
                     executor=args.executor, scheduler=args.scheduler,
                     metrics_extra=args.metrics_extra)
    summary = result.summary
    settings = list(dict.fromkeys(summary["setting"]))
    if len(settings) <= 4:
        print(class_table(summary, tablefmt=args.table_format))
    else:  # a sweep: the per-class tables are in summary.md and report.html
        print(overall_table(summary, tablefmt=args.table_format))
    if result.bdrate is not None:
        from ..analysis.bdrate import format_bd_table

        overall = result.bdrate[result.bdrate["class"] == ALL]
        for quality, table in overall.groupby("quality", sort=False):
            print(f"\nBD metrics against {args.anchor} ({quality}):")
            print(format_bd_table(table, tablefmt=args.table_format))
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
    if summary.empty:
        return 0
    overall = summary[summary["class"] == ALL]
    errors = int(overall["errors"].sum())
    if errors:
        print(f"warning: {errors} image(s) failed; see the 'error' column of records.csv", file=sys.stderr)
        for _, row in overall[(overall["count"] == 0) & (overall["errors"] > 0)].iterrows():
            print(f"warning: {row['setting']} failed on every image ({row['errors']})", file=sys.stderr)
    return errors


def cmd_report(args, rest) -> int:
    from ..present.report import write_report

    print(f"report: {write_report(args.results_dir)}")
    return 0


def cmd_compare(args, rest) -> int:
    return run_comparison(args.baseline, args.new, args, default_out=args.new if args.new.is_dir() else None)


def cmd_history(args, rest) -> int:
    from ..analysis.history import history
    from ..present.charts import plot_history

    frame = history(args.dirs, metric=args.metric, cls=args.class_name)
    print(tabulate(frame.reset_index(), headers="keys", tablefmt="simple", showindex=False, floatfmt=".4f"))
    print(f"plot: {plot_history(frame, args.plot)}")
    return 0


def cmd_train(args, rest) -> int:
    from .train import run_training

    return run_training(args.name, rest)


def main(argv: list[str] | None = None) -> int:
    return_freed_memory()  # a run's peak memory then stays bounded (compbench.run.allocator)
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
    except api.RunInterrupted as exc:  # Ctrl-C or SIGTERM during a run: the records are kept
        print(exc.message(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("compbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (compbench list | head): stop quietly, as a Unix tool does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())

"""The two gates, shared by ``compare`` and ``run --baseline``: the point-wise gate (every
metric of every setting against its tolerance) and the gate on curves (each codec's BD-rate
against its curve in the baseline). Their options, their runs, and where their reports go."""

from __future__ import annotations

import argparse
import os
from contextlib import nullcontext
from pathlib import Path

from ..contracts.errors import CompbenchError
from ..store.files import write_atomic
from ..store.lock import locked

#: where GitHub Actions collects a job's Markdown summary
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def non_negative_percent(text: str) -> float:
    try:
        value = float(text.strip().removesuffix("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number (a percentage, e.g. 1 or 0.5)") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a percentage of 0 or more")
    return value


def add_tolerance_options(parser) -> None:
    parser.add_argument("--tolerance", action="append", default=[], metavar="METRIC=VALUE",
                        help="allowed move the wrong way: psnr=0.05 (absolute) or bpp=1%% (relative); "
                             "repeatable; overrides the config file")
    parser.add_argument("--config", type=Path, metavar="FILE", help="tolerance config (default: compbench.toml or "
                        "[tool.compbench.compare] in pyproject.toml, found from the current folder up)")
    parser.add_argument("--gate-metrics", metavar="NAME[,NAME...]",
                        help="compare and gate only these metrics, e.g. psnr,bpp (default: every metric "
                             "with a better direction; timings only with --include-timings)")
    # 0.1's name, kept working but hidden: beside --rd-metrics and --metrics-extra it was read
    # as "the metrics to measure"
    parser.add_argument("--metrics", dest="gate_metrics", help=argparse.SUPPRESS)
    parser.add_argument("--include-timings", action="store_true", help="gate encode/decode times too")


def add_scope_options(parser) -> None:
    """What both gates share: which settings they cover, and the BD-rate limit."""
    parser.add_argument("--only-common", action="store_true",
                        help="compare only the settings (with --curves: the codecs) both runs have; without it, "
                             "one the baseline has and the new run lacks is an error (exit 2)")
    parser.add_argument("--fail-on-bd-rate", type=non_negative_percent, metavar="PCT",
                        help="gate on curves: exit 1 when a codec's BD-rate (PSNR, all images) against the "
                             "baseline is above +PCT %%; exit 2 when its curves overlap over less than half of "
                             "either one's PSNR range")


def gate_codecs(args) -> list[str] | None:
    """The codec names of ``--codecs`` (a run's: only when given on the command line)."""
    from ..analysis.scope import parse_codec_names

    if not getattr(args, "codecs_given", True):
        return None
    names = parse_codec_names(getattr(args, "codecs", None))
    return list(names) if names else None


def run_comparison(baseline: Path, new: Path, args, default_out: Path | None, codecs=None) -> int:
    """The point-wise gate: compare, print the table, write Markdown and JSON; the exit code
    (0 pass, 1 regression)."""
    from ..analysis.compare import compare, exit_code
    from ..analysis.tolerances import discover_config, load_tolerances, parse_tolerance_flag
    from ..present.comparison import comparison_json, comparison_markdown, comparison_text

    config = args.config or discover_config()
    tolerances = load_tolerances(config) if config else {}
    tolerances.update(dict(parse_tolerance_flag(text) for text in args.tolerance))
    metrics = [m.strip() for m in args.gate_metrics.split(",") if m.strip()] if args.gate_metrics else None
    comparison = compare(baseline, new, tolerances, metrics, args.include_timings, codecs, args.only_common)
    targets = {"markdown": getattr(args, "markdown", None) or (default_out / "comparison.md" if default_out else None),
               "json": getattr(args, "json", None) or (default_out / "comparison.json" if default_out else None)}
    # the verdict is printed only once its files are written: a write that fails is exit 2, no PASS
    deliver(targets, {"markdown": comparison_markdown(comparison), "json": comparison_json(comparison)},
            into=default_out)
    if not to_stdout(targets):
        print(comparison_text(comparison))
    return exit_code(comparison)


def run_gates(baseline: Path, out_dir: Path, args) -> int:
    """After ``run --baseline``: the point-wise comparison, printed unless only the curve gate is
    asked for (its exit code counts with ``--fail-on-regression``), then the curve gate with
    ``--fail-on-bd-rate`` (curves.md and curves.json beside comparison.md). ``--codecs``, when
    given, limits both to the run's codecs."""
    codecs, status = gate_codecs(args), 0
    if args.fail_on_regression or args.fail_on_bd_rate is None:
        print(f"\ncompared with {baseline}:")
        gate = run_comparison(baseline, out_dir, args, default_out=out_dir, codecs=codecs)
        status = gate if args.fail_on_regression else 0
    if args.fail_on_bd_rate is not None:
        print(f"\ncurves compared with {baseline}:")
        status = max(status, run_curves(baseline, [out_dir], args, codecs, default_out=out_dir))
    return status


def run_curves(baseline: Path, news: list[Path], args, codecs=None, references=(),
               default_out: Path | None = None) -> int:
    """The curves of each new run against the baseline's, with the gate when
    ``args.fail_on_bd_rate`` is set: printed, written where asked, plotted with ``args.plot``;
    the exit code (0; with the gate: 0 pass, 1 worse, 2 undecided)."""
    from ..analysis.curve_gate import gate_curves
    from ..analysis.curves import compare_curves, references_against_runs
    from ..present.curve_text import curves_json, curves_markdown, curves_text
    from ..store.results_folder import open_results

    runs = [open_results(folder) for folder in (baseline, *news)]  # each read once
    allow = getattr(args, "allow_different_images", False)
    comparisons = [compare_curves(runs[0], new, codecs, allow) for new in runs[1:]]
    verdict = gate_curves(comparisons, args.fail_on_bd_rate, args.only_common) \
        if args.fail_on_bd_rate is not None else None
    by_reference = references_against_runs(runs, references, comparisons)
    texts = {fmt: render(comparisons, verdict, by_reference)
             for fmt, render in (("markdown", curves_markdown), ("json", curves_json))}
    targets = {fmt: getattr(args, fmt, None) or (default_out / f"curves.{ext}" if default_out else None)
               for fmt, ext in (("markdown", "md"), ("json", "json"))}
    deliver(targets, texts, into=default_out, step_summary=True)  # before the verdict, as above
    if not to_stdout(targets):
        print(curves_text(comparisons, verdict, by_reference), end="")
    if getattr(args, "plot", None) is not None:
        plot_curves(args.plot, runs, comparisons, references)
    return verdict.exit_code if verdict is not None else 0


def plot_curves(out_dir: Path, runs: list, comparisons, references) -> None:
    """The overlaid plots of the runs (the base first) into ``out_dir``."""
    from ..analysis.curves import run_label
    from ..present.curves import CurvePlotOptions, PlottedRun, write_curve_plots

    notes = [f"different images: {c.different_images}" for c in comparisons if c.different_images]
    options = CurvePlotOptions(qualities=tuple(dict.fromkeys(q for c in comparisons for q in c.qualities)),
                               references=tuple(references), note="; ".join(notes)[:120])
    try:
        paths = write_curve_plots(out_dir, [PlottedRun(run_label(run), run.summary) for run in runs], options)
    except OSError as exc:
        raise CompbenchError(f"cannot write plots to {out_dir} ({exc.strerror}); choose another --plot folder") from None
    print(f"plots: {len(paths)} in {out_dir}")


def to_stdout(targets: dict) -> bool:
    return any(target is not None and str(target) == "-" for target in targets.values())


def deliver(targets: dict, texts: dict, into: Path | None = None, step_summary: bool = False) -> None:
    """Each text to its target ("-": standard output; None: nowhere), holding the lock of the
    results folder ``into`` while writing into it; with ``step_summary``, the Markdown also
    appended to the GitHub Actions job summary when there is one (the curve gate's: the
    point-wise gate's comparison.md is left to the workflow, as before)."""
    files = {fmt: Path(target) for fmt, target in targets.items() if target is not None and str(target) != "-"}
    into_run = into is not None and any(path.parent == into for path in files.values())
    fix = "write it elsewhere with --markdown PATH --json PATH"
    with locked(into, fix) if into_run else nullcontext():  # a results folder takes one writer
        for fmt, path in files.items():
            write_atomic(path, texts[fmt], fix=fix)
    for fmt, target in targets.items():
        if target is not None and str(target) == "-":
            print(texts[fmt], end="")
    summary = os.environ.get(STEP_SUMMARY)
    if summary and step_summary:
        try:
            with open(summary, "a") as out:
                out.write(texts["markdown"] + "\n")
        except OSError as exc:
            raise CompbenchError(f"cannot append to ${STEP_SUMMARY} ({summary}: {exc.strerror})") from None

"""``compbench compare``: a run against a baseline. Point-wise (every metric of every setting,
exit 1 on a regression), or with ``--curves`` each codec's curve in one or more new runs against
its curve in the baseline, whatever their settings (exit 1 with ``--fail-on-bd-rate`` when a
codec's BD-rate is worse than the limit)."""

from __future__ import annotations

from pathlib import Path

from ..contracts.errors import CompbenchError
from .arguments import add_command
from .gate import add_scope_options, add_tolerance_options, gate_codecs, run_comparison, run_curves

DESCRIPTION = """\
Compare a run with a baseline, row by row (codec, setting, dataset, split, class), knowing which
way each metric is better; print what moved, write comparison.md and comparison.json, and exit
1 on a regression, 2 on runs that do not match (other images, a setting or gated metric on one
side only, a damaged summary). Tolerances: --tolerance, or [tool.compbench.compare.tolerances]
in pyproject.toml. --codecs or --only-common gate a subset of the baseline's settings.

With --curves, each codec's rate-quality curve in one or more new runs is compared with its
curve in the baseline, whatever settings each swept: BD-rate and BD-quality (Bjontegaard delta,
PCHIP over the overlap) on every quality metric both measured, overall and per class, as a
table, Markdown, JSON and overlaid plots. --fail-on-bd-rate PCT gates on them.
"""
EXAMPLES = """\
compbench compare results/baselines/mnist-test-1k results/new
compbench compare BASE NEW --tolerance psnr=0.05 --tolerance bpp=1%
compbench compare BASE NEW --gate-metrics psnr,bpp   # gate only these
compbench compare BASE NEW --codecs jpeg   # gate only jpeg's settings
compbench compare BASE NEW1 NEW2 --curves --plot plots   # BD-rate of each codec, any ladders
compbench compare BASE NEW --fail-on-bd-rate 1 --markdown pr.md   # exit 1 if a curve got 1% worse
"""


def add_parser(commands) -> None:
    compare = add_command(commands, "compare", summary="compare runs with a baseline: metric by metric (exit 1 on "
                          "a regression), or their curves with --curves (BD-rate, plots, a BD-rate gate)",
                          description=DESCRIPTION, examples=EXAMPLES)
    compare.add_argument("baseline", type=Path, metavar="BASELINE", help="baseline results folder or summary.csv")
    compare.add_argument("new", type=Path, nargs="+", metavar="NEW",
                         help="new results folder or summary.csv (several with --curves)")
    compare.add_argument("--curves", action="store_true",
                         help="compare each codec's rate-quality curve (matched by name, whatever the settings): "
                              "BD-rate and BD-quality of NEW against BASELINE, overall and per class")
    compare.add_argument("--codecs", metavar="NAME[,NAME...]",
                         help="compare only these codecs (each must be in both runs)")
    add_scope_options(compare)
    compare.add_argument("--allow-different-images", action="store_true",
                         help="with --curves: compare runs over different images (datasets, selections), said "
                              "on every table")
    compare.add_argument("--plot", type=Path, metavar="DIR", help="with --curves: overlaid RD plots, one per "
                         "codec and one with all, per quality metric")
    compare.add_argument("--reference", type=Path, action="append", default=[], metavar="FILE",
                         help="with --curves: a published curve (CompressAI results JSON, or CSV name,bpp,psnr,...) "
                              "to plot and measure against; repeatable")
    add_tolerance_options(compare)
    compare.add_argument("--markdown", type=Path, nargs="?", const="-", metavar="FILE",
                         help="the comparison as Markdown, to FILE or, without one, to standard output "
                              "(point-wise default: comparison.md in NEW when it is a folder)")
    compare.add_argument("--json", type=Path, nargs="?", const="-", metavar="FILE",
                         help="the comparison as JSON, to FILE or, without one, to standard output "
                              "(point-wise default: comparison.json in NEW when it is a folder)")
    compare.set_defaults(handler=main)


def main(args, rest) -> int:
    curves = args.curves or args.fail_on_bd_rate is not None
    check_mode(args, curves)
    if curves:
        from ..analysis.references import read_references

        references = read_references(args.reference)
        return run_curves(args.baseline, args.new, args, gate_codecs(args), references)
    new = args.new[0]
    return run_comparison(args.baseline, new, args, default_out=new if new.is_dir() else None,
                          codecs=gate_codecs(args))


def check_mode(args, curves: bool) -> None:
    """Options of one mode given in the other are refused, naming the mode they belong to."""
    if curves:
        pointwise = [flag for flag, given in (("--tolerance", args.tolerance), ("--gate-metrics", args.gate_metrics),
                                              ("--include-timings", args.include_timings),
                                              ("--config", args.config)) if given]
        if pointwise:
            raise CompbenchError(f"{', '.join(pointwise)} belong(s) to the point-wise gate, not to --curves "
                                 "(the curve gate's limit is --fail-on-bd-rate PCT)")
        return
    if len(args.new) > 1:
        raise CompbenchError(f"compare takes one NEW run ({len(args.new)} given); several are compared with --curves")
    if args.allow_different_images:
        raise CompbenchError("--allow-different-images applies to --curves only: the point-wise gate compares "
                             "runs of the same images")
    for flag, given in (("--plot", args.plot), ("--reference", args.reference)):
        if given:
            raise CompbenchError(f"{flag} applies to --curves only (compbench compare BASE NEW --curves {flag} ...)")

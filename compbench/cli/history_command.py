"""``compbench history``: a metric across stored runs, or a codec's BD-rate against the first
run given (``--bd-rate CODEC``), as a table (or JSON) and a plot."""

from __future__ import annotations

import json
from pathlib import Path


def add_parser(commands) -> None:
    history = commands.add_parser("history", help="a metric, or a codec's BD-rate, across stored runs: a table "
                                  "and a plot")
    history.add_argument("dirs", nargs="+", type=Path, help="results folders")
    history.add_argument("--metric", default="psnr", help="metric (default: psnr); with --bd-rate, the quality "
                         "metric of the BD-rate")
    history.add_argument("--class", dest="class_name", default="all", help="class (default: all)")
    history.add_argument("--bd-rate", metavar="CODEC",
                         help="the BD-rate of CODEC's curve in each run against the first run, runs in the order "
                              "given (each needs CODEC at two or more settings)")
    history.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    history.add_argument("--plot", type=Path, default=Path("history.png"),
                         help="where to draw the plot (default: history.png)")
    history.set_defaults(handler=main)


def main(args, rest) -> int:
    if args.bd_rate:
        return bd_rate_main(args)
    from tabulate import tabulate

    from ..analysis.history import history
    from ..present.charts import plot_history

    frame = history(args.dirs, metric=args.metric, cls=args.class_name)
    if args.json:
        print(frame.to_json(orient="index", indent=2))
    else:
        print(tabulate(frame.reset_index(), headers="keys", tablefmt="simple", showindex=False, floatfmt=".4f"))
    print(f"plot: {plot_history(frame, args.plot)}", file=_plot_stream(args))
    return 0


def bd_rate_main(args) -> int:
    from tabulate import tabulate

    from ..analysis.history import bd_rate_history
    from ..present.curves import plot_bd_rate_history

    frame = bd_rate_history(args.dirs, args.bd_rate, quality=args.metric)
    if args.json:
        rows = [{"run": run, **{k: (None if isinstance(v, float) and v != v else v) for k, v in row.items()}}
                for run, row in zip(frame.index, frame.to_dict("records"))]
        print(json.dumps({"codec": args.bd_rate, "quality": args.metric, "base": frame.attrs["base"], "runs": rows},
                         indent=2))
    else:
        shown = frame[["started", "commit", "bd_rate_pct", "bd_quality", "points", "coverage", "warning"]]
        print(tabulate(shown.reset_index(), headers="keys", tablefmt="simple", showindex=False, floatfmt=".3f"))
    print(f"plot: {plot_bd_rate_history(frame, args.plot)}", file=_plot_stream(args))
    return 0


def _plot_stream(args):
    import sys

    return sys.stderr if args.json else sys.stdout  # keep standard output parseable

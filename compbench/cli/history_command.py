"""``compbench history``: a metric across stored runs, as a table and a plot."""

from __future__ import annotations

from pathlib import Path


def add_parser(commands) -> None:
    history = commands.add_parser("history", help="a metric across stored runs, as a table and a plot")
    history.add_argument("dirs", nargs="+", type=Path, help="results folders")
    history.add_argument("--metric", default="psnr", help="metric (default: psnr)")
    history.add_argument("--class", dest="class_name", default="all", help="class (default: all)")
    history.add_argument("--plot", type=Path, default=Path("history.png"),
                         help="where to draw the plot (default: history.png)")
    history.set_defaults(handler=main)


def main(args, rest) -> int:
    from tabulate import tabulate

    from ..analysis.history import history
    from ..present.charts import plot_history

    frame = history(args.dirs, metric=args.metric, cls=args.class_name)
    print(tabulate(frame.reset_index(), headers="keys", tablefmt="simple", showindex=False, floatfmt=".4f"))
    print(f"plot: {plot_history(frame, args.plot)}")
    return 0

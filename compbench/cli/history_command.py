"""``compbench history``: a metric across stored runs, as a table and a plot."""

from __future__ import annotations

from pathlib import Path

from .arguments import add_command

EXAMPLES = """\
compbench history results/run1 results/run2 results/run3  # psnr, all images
compbench history results/* --metric bpp --class 3 --plot bpp.png
"""


def add_parser(commands) -> None:
    history = add_command(commands, "history", summary="a metric across stored runs, as a table and a plot",
                          description="One metric of every setting across stored runs, in the order they "
                                      "started (their manifests say when): a table on stdout and a line plot.",
                          examples=EXAMPLES)
    history.add_argument("dirs", nargs="+", type=Path, metavar="RESULTS", help="results folders, in any order")
    history.add_argument("--metric", default="psnr", metavar="NAME", help="metric (default: psnr)")
    history.add_argument("--class", dest="class_name", default="all", metavar="CLASS",
                         help="class (default: all, every image)")
    history.add_argument("--plot", type=Path, default=Path("history.png"), metavar="FILE",
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

"""``compbench history``: a metric across stored runs, or a codec's BD-rate against the first
run given (``--bd-rate CODEC``), as a table (or JSON) and a plot."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .arguments import add_command

if TYPE_CHECKING:
    from ..store.results_folder import ResultsFolder

EXAMPLES = """\
compbench history results/run1 results/run2 results/run3  # psnr, all images
compbench history results/* --metric bpp --class 3 --plot bpp.png
compbench history results/base results/run1 results/run2 --bd-rate jpeg   # jpeg's curve, run by run
"""


def add_parser(commands) -> None:
    history = add_command(commands, "history", summary="a metric, or a codec's BD-rate, across stored runs: a table "
                          "and a plot",
                          description="One metric of every setting across stored runs, in the order they "
                                      "started (their manifests say when): a table on stdout and a line plot. "
                                      "With --bd-rate CODEC: the BD-rate of CODEC's curve in each run against "
                                      "the first run given, in the order given, each labelled by its start "
                                      "time and git commit.",
                          examples=EXAMPLES)
    history.add_argument("dirs", nargs="+", type=Path, metavar="RESULTS",
                         help="results folders, in any order (with --bd-rate: the base first)")
    history.add_argument("--metric", default="psnr", metavar="NAME",
                         help="metric (default: psnr); with --bd-rate, the quality of the BD-rate")
    history.add_argument("--class", dest="class_name", default="all", metavar="CLASS",
                         help="class (default: all, every image)")
    history.add_argument("--bd-rate", metavar="CODEC",
                         help="the BD-rate of CODEC's curve in each run against the first run, runs in the order "
                              "given (each needs CODEC at two or more settings)")
    history.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    history.add_argument("--plot", type=Path, default=None, metavar="FILE",
                         help="where to draw the plot (default: history_<metric>.png in the newest run's folder)")
    history.set_defaults(handler=main)


def main(args, rest) -> int:
    if args.bd_rate:
        return bd_rate_main(args)
    from tabulate import tabulate

    from ..analysis.history import history, newest_run, open_runs
    from ..present.charts import plot_history

    runs = open_runs(args.dirs)
    frame = history(runs, metric=args.metric, cls=args.class_name)
    if args.json:
        print(frame.to_json(orient="index", indent=2))
    else:
        print(tabulate(frame.reset_index(), headers="keys", tablefmt="simple", showindex=False, floatfmt=".4f"))
    note = images_note(runs)
    if note:
        print(f"note: {note}", file=sys.stderr)
    plot = args.plot or newest_run(runs).folder / f"history_{args.metric}.png"
    print(f"plot: {plot_history(frame, plot, note)}", file=sys.stderr if args.json else sys.stdout)
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
    # standard output stays parseable with --json
    plot = args.plot or _folder(args.dirs[-1]) / f"history_bd_rate_{args.bd_rate}.png"  # the last run given
    print(f"plot: {plot_bd_rate_history(frame, plot)}", file=sys.stderr if args.json else sys.stdout)
    return 0


def _folder(path: Path) -> Path:
    return path.parent if path.is_file() else path


def images_note(runs: list[ResultsFolder]) -> str:
    """A warning when the runs (in the order given) measured different images (dataset, split
    or image count): their values then differ for that reason too."""
    seen = []  # one entry per run: two folders of the same name are still two runs
    for run in runs:  # their manifests as the runs were opened: not read again
        facts = (run.manifest or {}).get("run", {})
        seen.append((facts.get("dataset"), facts.get("split"), facts.get("images")))
    if len(set(seen)) <= 1:
        return ""
    kinds = ", ".join(f"{ds} {split} x{images}" for ds, split, images in dict.fromkeys(seen))
    return f"the runs measured different images ({kinds}): values differ for that reason too"

"""``compbench history``: a metric across stored runs, as a table and a plot."""

from __future__ import annotations

import sys
from pathlib import Path


def add_parser(commands) -> None:
    history = commands.add_parser("history", help="a metric across stored runs, as a table and a plot")
    history.add_argument("dirs", nargs="+", type=Path, help="results folders")
    history.add_argument("--metric", default="psnr", help="metric (default: psnr)")
    history.add_argument("--class", dest="class_name", default="all", help="class (default: all)")
    history.add_argument("--plot", type=Path, default=None,
                         help="where to draw the plot (default: history_<metric>.png in the newest run's folder)")
    history.set_defaults(handler=main)


def main(args, rest) -> int:
    from tabulate import tabulate

    from ..analysis.history import history
    from ..present.charts import plot_history

    frame = history(args.dirs, metric=args.metric, cls=args.class_name)
    print(tabulate(frame.reset_index(), headers="keys", tablefmt="simple", showindex=False, floatfmt=".4f"))
    note = images_note(args.dirs)
    if note:
        print(f"note: {note}", file=sys.stderr)
    plot = args.plot or newest_folder(args.dirs, frame) / f"history_{args.metric}.png"
    print(f"plot: {plot_history(frame, plot, note)}")
    return 0


def _folder(path: Path) -> Path:
    return path.parent if path.is_file() else path


def newest_folder(dirs: list[Path], frame) -> Path:
    """The folder of the newest run (history orders runs by start time: the last row)."""
    newest = Path(str(frame.index[-1])).name
    return next((_folder(d) for d in dirs if _folder(d).name == newest), _folder(dirs[-1]))


def images_note(dirs: list[Path]) -> str:
    """A warning when the runs measured different images (dataset, split or image count):
    their values then differ for that reason too."""
    from ..store.manifest import read_manifest

    seen = {}
    for d in dirs:
        run = read_manifest(_folder(d) / "manifest.json").get("run", {})
        seen[_folder(d).name] = (run.get("dataset"), run.get("split"), run.get("images"))
    if len(set(seen.values())) <= 1:
        return ""
    kinds = ", ".join(f"{ds} {split} x{images}" for ds, split, images in dict.fromkeys(seen.values()))
    return f"the runs measured different images ({kinds}): values differ for that reason too"

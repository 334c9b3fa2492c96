"""``compbench export``: a run's curves as CompressAI's results JSON (one file per codec, for
CompressAI's plotting tool) or as one CSV; what ``--reference`` reads back."""

from __future__ import annotations

import sys
from pathlib import Path

from ..contracts.errors import CompbenchError

FORMATS = ("compressai", "csv")


def add_parser(commands) -> None:
    export = commands.add_parser("export", help="write a run's rate-quality curves as CompressAI results JSON or CSV")
    export.add_argument("run", type=Path, help="a results folder written by compbench run")
    export.add_argument("--format", choices=FORMATS, default="compressai",
                        help="compressai: one <codec>.json per codec; csv: curves.csv (default: compressai)")
    export.add_argument("--out", type=Path, required=True, help="folder to write into (made if missing)")
    export.set_defaults(handler=main)


def main(args, rest) -> int:
    from ..analysis.export import compressai_json, curves_csv, run_curves
    from ..present.charts import safe_name
    from ..store.files import write_atomic
    from ..store.results_folder import open_results

    curves, notes = run_curves(open_results(args.run))
    files = {f"{safe_name(c.name)}.json": compressai_json(c) for c in curves} if args.format == "compressai" \
        else {"curves.csv": curves_csv(curves)}
    try:
        args.out.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            write_atomic(args.out / name, text)
    except OSError as exc:
        raise CompbenchError(f"cannot write to {args.out} ({exc.strerror}); choose another --out") from None
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for name in files:
        print(args.out / name)
    return 0

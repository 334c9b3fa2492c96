"""``compbench export``: a run's curves as CompressAI's results JSON (one file per codec, for
CompressAI's plotting tool) or as one CSV; what ``--reference`` reads back."""

from __future__ import annotations

import sys
from pathlib import Path

from ..contracts.errors import CompbenchError
from .arguments import add_command

FORMATS = ("compressai", "csv")
DESCRIPTION = """\
Write each codec's rate-quality curve of a run (all images, settings in rate order, every
quality metric it measured) as CompressAI's results JSON, one <codec>.json per codec, for
CompressAI's plotting tool (psnr as psnr-rgb, ms_ssim as ms-ssim-rgb), or as one CSV
(name,bpp,psnr,...). --reference reads both back, to the last digit. A setting without a finite
quality (lossless, failed) is left out and named.
"""
EXAMPLES = """\
compbench export results/mine --out curves/   # curves/jpeg.json, curves/jpeg2000.json, ...
compbench export results/mine --format csv --out curves/   # curves/curves.csv
"""


def add_parser(commands) -> None:
    export = add_command(commands, "export", summary="write a run's curves as CompressAI results JSON or CSV",
                         description=DESCRIPTION, examples=EXAMPLES)
    export.add_argument("run", type=Path, metavar="RESULTS", help="a results folder written by compbench run")
    export.add_argument("--format", choices=FORMATS, default="compressai",
                        help="compressai: one <codec>.json per codec; csv: curves.csv (default: compressai)")
    export.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write into (made if missing)")
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
    except OSError as exc:
        raise CompbenchError(f"cannot write to {args.out} ({exc.strerror}); choose another --out") from None
    for name, text in files.items():
        write_atomic(args.out / name, text, fix="choose another --out")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for name in files:
        print(args.out / name)
    return 0

"""Every colour-capable codec over scikit-image's colour photographs at its full default ladder,
and BD-rate of every lossy codec against JPEG on MNIST and on the photographs (issue 11).

    python benchmarks/bench_codecs.py [--workers 2] [--photos astronaut,coffee,...] [--mnist 1000] [--quick]

Measured through the harness, as a user gets it: ``compbench.api.run(..., sweep=True,
anchor="jpeg", write=False)``, the photographs written losslessly (PNG) into a temporary
folder and run as ``--dataset folder:path=...``. Every number comes from the run's
``RunResult``: per setting the summary's mean bpp and mean PSNR over the images (lossless
images counted as the summary counts them) and the sum of the records' encode_s and decode_s;
per codec the share of those seconds; the BD-rate table is the run's own (``RunResult.bdrate``,
PSNR against JPEG, class "all"). A lossless codec (no ladder) runs once and shows as
"lossless".

Target (issue 11): the full ladders over the photographs in <= 60 s on 2 cores: the wall time
of that ``api.run`` call (its workers started, every setting coded, decoded and measured; no
files written). Judged only over the seven default photographs (``--photos`` or ``--quick``
change the work: then it is not judged). Exit 1 on a MISS. ``--quick``: two photographs and
200 MNIST digits.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd
from _common import Sample, at_most, harness_run, not_judged, verdict_table
from PIL import Image

from compbench import api
from compbench.contracts.registry import build_registry

#: scikit-image's colour photographs (``skimage.data``; chelsea and cat are one picture)
PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "immunohistochemistry", "hubble_deep_field", "retina")
QUICK_PHOTOS = ("astronaut", "coffee")
TARGET_S = 60.0
ANCHOR = "jpeg"


def applicable(registry, shapes: list[tuple], only: str | None, lossy_only: bool = False) -> list[str]:
    """Available codecs that take every one of these shapes (``only``: a comma-separated subset)."""
    names = []
    for name, registered in sorted(registry.codecs.items()):
        factory = registered.obj
        if only and name not in only.split(","):
            continue
        if lossy_only and factory.lossless:
            continue
        if factory.available().ok and not any(factory.not_applicable(shape) for shape in shapes):
            names.append(name)
    return names


def ladders(codecs: list[str], workers: int, **options) -> tuple[api.RunResult, Sample]:
    """Every codec over its default ladder, through the harness (nothing written)."""
    return harness_run(",".join(codecs), sweep=True, anchor=ANCHOR, jobs=workers, command="bench_codecs", **options)


def print_points(result: api.RunResult) -> None:
    summary = result.summary[result.summary["class"] == "all"].set_index("setting")
    seconds = result.records.groupby("setting", sort=False)[["encode_s", "decode_s"]].sum()
    print(f"{'setting':34s} {'bpp':>8s} {'PSNR dB':>9s} {'encode s':>9s} {'decode s':>9s}")
    for setting, row in summary.iterrows():
        psnr = "lossless" if row["lossless"] == row["count"] else f"{row['psnr_mean']:.2f}"
        print(f"{setting:34s} {row['bpp_mean']:8.3f} {psnr:>9s} {seconds.loc[setting, 'encode_s']:9.2f} "
              f"{seconds.loc[setting, 'decode_s']:9.2f}")


def print_split(result: api.RunResult) -> None:
    """The codecs' own seconds (encode_s + decode_s over the records) per codec, largest first."""
    records = result.records
    per_codec = (records["encode_s"] + records["decode_s"]).groupby(records["codec"]).sum().sort_values(ascending=False)
    settings = records.groupby("codec")["setting"].nunique()
    total = per_codec.sum()
    print("\nthe codecs' own time (encode_s + decode_s over the records), largest first:")
    for name, seconds in per_codec.items():
        print(f"  {name:16s} {seconds:7.2f} s ({100 * seconds / total:5.1f}%) over {settings[name]} setting(s)")


def print_bd(result: api.RunResult, title: str) -> None:
    table = result.bdrate
    if table is None:
        print(f"\nBD-rate on {title}: no curves to compare")
        return
    rows = table[(table["class"] == "all") & (table["quality"] == "psnr")]
    print(f"\nBD-rate against {ANCHOR} on {title}, the run's own table (negative: fewer bits for the same PSNR):")
    curves = rows["points"] >= 2
    if not curves.all():
        print(f"  (no curve, lossless or one setting: {', '.join(rows.loc[~curves, 'codec'])})")
    for row in rows[curves].itertuples():
        value = f"{row.bd_rate_pct:+7.1f}%" if pd.notna(row.bd_rate_pct) else "    n/a"
        print(f"  {row.codec:10s} {value}  over PSNR {row.overlap_low:.1f}..{row.overlap_high:.1f} dB, "
              f"{row.points} vs {row.anchor_points} points" + (f"\n      {row.warning}" if row.warning else ""))


def write_photos(folder: Path, photos: tuple[str, ...]) -> list[tuple]:
    import skimage.data

    shapes = []
    for name in photos:
        image = getattr(skimage.data, name)()
        Image.fromarray(image).save(folder / f"{name}.png")
        shapes.append(image.shape)
    return shapes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--photos", help=f"skimage.data colour photographs (default: {','.join(PHOTOS)})")
    parser.add_argument("--mnist", type=int, help="MNIST test images for BD-rate (default 1000, --quick 200; 0: skip)")
    parser.add_argument("--codecs", help="only these codecs (comma-separated; default: all that apply)")
    parser.add_argument("--quick", action="store_true", help=f"photographs {','.join(QUICK_PHOTOS)}, 200 digits")
    args = parser.parse_args()
    photos = tuple(args.photos.split(",")) if args.photos else QUICK_PHOTOS if args.quick else PHOTOS
    mnist = args.mnist if args.mnist is not None else 200 if args.quick else 1000
    registry = build_registry()

    with tempfile.TemporaryDirectory() as tmp:
        shapes = write_photos(Path(tmp), photos)
        colour = applicable(registry, shapes, args.codecs)
        megapixels = sum(s[0] * s[1] for s in shapes) / 1e6
        print(f"{len(photos)} photographs ({megapixels:.2f} Mpx): {', '.join(photos)}")
        print(f"colour codecs: {', '.join(colour)}; {args.workers} worker(s) on {os.cpu_count()} cores, "
              f"load average {os.getloadavg()[0]:.1f}\n")
        result, sample = ladders(colour, args.workers, dataset=f"folder:path={tmp}")
    print_points(result)
    print_split(result)
    print(f"\nwall {sample.wall:.1f} s, CPU {sample.cpu:.1f} s (this process and its workers)")
    print_bd(result, "the photographs")
    what = f"full ladders over the {len(PHOTOS)} colour photographs, {args.workers} workers: wall"
    default_work = photos == PHOTOS and not args.codecs and args.workers == 2
    checks = [at_most(what, sample.wall, TARGET_S, " s", ".1f") if default_work
              else not_judged(what, f"<= {TARGET_S:g} s", "other photographs, codecs or workers than the target's")]

    if mnist:
        lossy = applicable(registry, [(28, 28)], args.codecs, lossy_only=True)
        result, sample = ladders(lossy, args.workers, limit=mnist)
        print(f"\nMNIST test, first {mnist} images: every lossy codec's ladder ({sample.wall:.1f} s wall)")
        print_points(result)
        print_bd(result, f"MNIST ({mnist} test images)")
    return verdict_table(checks)


if __name__ == "__main__":
    sys.exit(main())

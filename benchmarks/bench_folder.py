"""The folder dataset on a folder of camera-sized photographs: open, checksum and read times.

    python benchmarks/bench_folder.py [--files N] [--side PIXELS] [--repeat R] [--quick]

Writes N photographs (default 60; scikit-image's, upscaled to PIXELS on the long side, default
2048; half JPEG, half PNG) into a temporary folder, then times opening it with check=header and
check=decode, hashing every file (checksums()) and decoding every image (read()), the four in
turn, R rounds (default 3), medians. Prints the figures and the ratio of each to reading the
headers alone (different work: for scale, not verdicts). No targets: the numbers are for
choosing the default check and for the lead's run planning; exit 0. ``--quick``: 12 files,
one round.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import skimage.data
from compbench_datasets.folder import FolderDataset
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from _common import interleave, median, timed, verdict_table  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "moon", "brick")


def write_folder(root: Path, files: int, side: int) -> int:
    """N files in 4 classes; returns their total size in bytes."""
    total = 0
    for i in range(files):
        image = Image.fromarray(getattr(skimage.data, PHOTOS[i % len(PHOTOS)])())
        scale = side / max(image.size)
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.BICUBIC)
        path = root / f"class{i % 4}" / f"photo{i:04d}.{'jpg' if i % 2 else 'png'}"
        path.parent.mkdir(exist_ok=True)
        image.save(path, **({"quality": 92} if i % 2 else {}))
        total += path.stat().st_size
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int)
    parser.add_argument("--side", type=int, default=2048)
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--quick", action="store_true", help="12 files, one round")
    args = parser.parse_args()
    files, repeat = args.files or (12 if args.quick else 60), args.repeat or (1 if args.quick else 3)
    adapter = FolderDataset()
    with tempfile.TemporaryDirectory() as tmp:
        megabytes = write_folder(Path(tmp), files, args.side) / 1e6
        source = adapter.open("all", path=tmp, check="header")
        pixels = sum(int(np.prod(source.shape(p)[:2])) for p in range(len(source)))
        samples = interleave({
            "header": lambda: timed(lambda: adapter.open("all", path=tmp, check="header")),
            "decode": lambda: timed(lambda: adapter.open("all", path=tmp, check="decode")),
            "hashing": lambda: timed(lambda: adapter.open("all", path=tmp, check="header").checksums()),
            "reading": lambda: timed(lambda: source.read(range(len(source)))),
        }, repeat)
    header, decode, hashing, reading = (median(s.wall for s in runs) for runs in samples.values())
    print(f"{files} files, {megabytes:.1f} MB, {pixels / 1e6:.1f} Mpixel (long side {args.side}); medians of {repeat}")
    print(f"open, check=header: {header:.3f} s ({header / files * 1e3:.2f} ms per file)")
    print(f"open, check=decode: {decode:.2f} s ({decode / header:.0f}x header; includes the sha256)")
    print(f"checksums() after check=header: {hashing:.3f} s ({megabytes / hashing:.0f} MB/s; includes the open)")
    print(f"read() of every image: {reading:.2f} s ({reading / decode:.2f}x check=decode)")
    return verdict_table([])


if __name__ == "__main__":
    sys.exit(main())

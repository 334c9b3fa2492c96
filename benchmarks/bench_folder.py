"""The folder dataset on a folder of camera-sized photographs: open, checksum and read times.

    python benchmarks/bench_folder.py [--files N] [--side PIXELS]

Writes N photographs (scikit-image's, upscaled to PIXELS on the long side; half JPEG, half
PNG) into a temporary folder, then times opening it with check=header and check=decode,
hashing every file (checksums()) and decoding every image (read()). Prints the figures and
the ratio of each to reading the headers alone. No pass/fail targets: the numbers are for
choosing the default check and for the lead's run planning.
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
from _common import best_of  # noqa: E402

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--side", type=int, default=2048)
    args = parser.parse_args()
    adapter = FolderDataset()
    with tempfile.TemporaryDirectory() as tmp:
        size = write_folder(Path(tmp), args.files, args.side)
        megabytes = size / 1e6
        pixels = 0
        header = best_of(3, lambda: adapter.open("all", path=tmp, check="header"))
        decode = best_of(1, lambda: adapter.open("all", path=tmp, check="decode"))
        source = adapter.open("all", path=tmp, check="header")
        pixels = sum(int(np.prod(source.shape(p)[:2])) for p in range(len(source)))
        hashing = best_of(1, lambda: adapter.open("all", path=tmp, check="header").checksums())
        reading = best_of(1, lambda: source.read(range(len(source))))
    print(f"{args.files} files, {megabytes:.1f} MB, {pixels / 1e6:.1f} Mpixel (long side {args.side})")
    print(f"open, check=header: {header:.3f} s ({header / args.files * 1e3:.2f} ms per file)")
    print(f"open, check=decode: {decode:.2f} s ({decode / header:.0f}x header; includes the sha256)")
    print(f"checksums() after check=header: {hashing:.3f} s ({megabytes / hashing:.0f} MB/s)")
    print(f"read() of every image: {reading:.2f} s ({reading / decode:.2f}x check=decode)")


if __name__ == "__main__":
    main()

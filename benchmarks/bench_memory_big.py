"""A worker's memory on big images (issue 20): peak RSS of the worker beyond its baseline, in
bytes per pixel of the image, for 16-Mpx and 81-Mpx gray and RGB images through ``jpeg``,
``jpeg2000`` and ``webp`` with all core metrics (target: at most 24 bytes per pixel).

Each image (smooth noise: what a photograph's compressibility looks like to a codec, made
here) is a one-file folder coded by ``compbench run --dataset folder:path=DIR --codecs C
--jobs 1 --timeout 3600``; the RSS of every process the run starts is sampled from /proc
every 50 ms, and the worker (the process whose RSS grows most) is measured from its smallest
sample (when it started, before it read the image) to its largest. Then, to tell where the
memory goes, the same image goes through the same steps in one process, the peak RSS after
each step (VmHWM): reading the file, encoding, decoding (into the batch of
reconstructions), the fused metrics pass (mse, psnr, ssim, ...) and each metric computed on
its own (ms_ssim). Sizes a codec does not take (JPEG 2000: 16,777,216 samples at most) are
shown as n/a.

Run: python benchmarks/bench_memory_big.py [--codecs jpeg,jpeg2000,webp] [--sizes 16,81]
[--kinds gray,rgb] [--keep DIR] [--memory-fraction 0.5]   (exit 1 on a MISS)

The machine may be shared: a measurement whose need, estimated from the bytes per sample the
codec took on the smaller images, passes half the available memory is not run (and said); the
verdict table counts it NOT MEASURED, a failure, as it does the target when nothing at all was
measured (every size n/a or not run): never a PASS.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _common import at_most, not_measured, verdict_table
from PIL import Image

from compbench.run.machine import available_bytes

TARGET = 24.0  # bytes per pixel beyond the worker's baseline
SIDES = {16: 4000, 81: 9000}  # Mpx -> side of the square image
CHANNELS = {"gray": 1, "rgb": 3}
SAMPLE_SECONDS = 0.05
#: seconds per image and stage: a big image's metrics took over 60 s (the default) on a loaded
#: 2-core machine before they ran in strips
TIMEOUT = 3600
#: bytes per sample (pixel x channel) assumed before a codec was measured on a smaller image
#: (measured: at most 15, gray through jpeg2000)
GUESS_PER_SAMPLE = 40

# the worker's steps in one process, the peak after each (VmHWM only grows: each step's figure
# is how far it pushed the peak beyond the steps before it; not ru_maxrss, which Linux carries
# over exec from this big process)
STEPS = """
import json, sys
import numpy as np
from compbench import load_dataset
from compbench.contracts.registry import build_registry
from compbench.metrics import CORE
from compbench.metrics.measure import image_metrics
from compbench.run.spec import parse_codec_specs

folder, tiny, codec_text = sys.argv[1:4]
registry = build_registry()
spec = parse_codec_specs(codec_text, registry)[0]
codec = registry.codec(spec.name).create(**spec.kwargs)

def through(path):
    peaks = {}
    peak = lambda: next(int(line.split()[1]) * 1024 for line in open("/proc/self/status")
                        if line.startswith("VmHWM:"))
    peaks["start"] = peak()
    images = np.stack(load_dataset("folder", path=path, check="header").read([0]))
    peaks["read"] = peak()
    blob = codec.encode(images[0])
    peaks["encode"] = peak()
    decoded = codec.decode(blob)
    peaks["decode"] = peak()
    reconstructions = np.zeros_like(images)
    reconstructions[0] = decoded
    peaks["decode"] = peak()
    # CORE.measure's steps: the fused pass (mse, psnr, ssim, ...), then each metric of its own
    image_metrics(images, reconstructions, np.array([len(blob)]), codec.overhead_bytes(images.shape[1:]))
    peaks["fused metrics"] = peak()
    for metric in CORE:
        if metric.compute is not None:
            metric.compute(images, reconstructions)
            peaks[metric.name] = peak()
    return peaks

through(tiny)  # imports and first calls: the baseline
print(json.dumps(through(folder)))
"""


def smooth_noise(side: int, channels: int, seed: int) -> np.ndarray:
    """uint8 (side, side[, 3]): coarse noise resized bicubically, plus a little fine noise."""
    rng = np.random.default_rng(seed)
    planes = []
    for _ in range(channels):
        coarse = Image.fromarray(rng.integers(0, 256, (side // 40, side // 40), dtype=np.uint8))
        plane = np.asarray(coarse.resize((side, side), Image.Resampling.BICUBIC))
        fine = rng.integers(-3, 4, plane.shape, dtype=np.int8)
        planes.append(np.clip(plane.astype(np.int16) + fine, 0, 255).astype(np.uint8))
        del plane, fine
    return planes[0] if channels == 1 else np.stack(planes, axis=-1)


def one_image_folder(root: Path, name: str, side: int, channels: int) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "image.png").exists():
        Image.fromarray(smooth_noise(side, channels, seed=side + channels)).save(folder / "image.png",
                                                                                 compress_level=1)
    return folder


class Sampler(threading.Thread):
    """VmRSS of every descendant of ``root``, every 50 ms: pid -> (smallest, largest) bytes."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.seen, self.stop = root, {}, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            for pid in descendants(self.root):
                rss = vm_rss(pid)
                if rss:
                    low, high = self.seen.get(pid, (rss, rss))
                    self.seen[pid] = (min(low, rss), max(high, rss))
            self.stop.wait(SAMPLE_SECONDS)


def descendants(root: int) -> list[int]:
    parent_of = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent_of[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parent_of.items() if parent in frontier]
        found += children
        frontier = children
    return found


def vm_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def worker_growth(folder: Path, codec: str, out: Path) -> tuple[int, int, float]:
    """(bytes the worker grew by, its smallest RSS, wall seconds) of one run."""
    start = time.perf_counter()
    run = subprocess.Popen([sys.executable, "-P", "-m", "compbench", "run", "--dataset", f"folder:path={folder}", "--codecs", codec,
                            "--jobs", "1", "--timeout", str(TIMEOUT), "--out", str(out), "--quiet", "--no-figures"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    sampler = Sampler(run.pid)
    sampler.start()
    _, errors = run.communicate()
    sampler.stop.set()
    sampler.join()
    if run.returncode != 0:
        raise RuntimeError(f"compbench run --codecs {codec} on {folder}: exit {run.returncode}: {errors.strip()}")
    low, high = max(sampler.seen.values(), key=lambda pair: pair[1] - pair[0], default=(0, 0))
    return high - low, low, time.perf_counter() - start


def steps(folder: Path, tiny: Path, codec: str) -> dict[str, int]:
    done = subprocess.run([sys.executable, "-c", STEPS, str(folder), str(tiny), codec], capture_output=True,
                          text=True, check=True)
    peaks = json.loads(done.stdout.strip().splitlines()[-1])
    names = list(peaks)
    return {name: peaks[name] - peaks[before] for before, name in zip(names, names[1:])}


def takes(codec: str, shape: tuple[int, ...]) -> bool:
    from compbench.contracts.registry import build_registry

    return build_registry().codec(codec).not_applicable(shape) is None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--codecs", default="jpeg,jpeg2000,webp")
    parser.add_argument("--sizes", default="16,81", help="Mpx: 16 (4000x4000), 81 (9000x9000)")
    parser.add_argument("--kinds", default="gray,rgb")
    parser.add_argument("--memory-fraction", type=float, default=0.5,
                        help="skip a measurement whose estimated need passes this share of the available memory")
    parser.add_argument("--keep", type=Path, help="generate the images here and keep them (default: a temp folder)")
    args = parser.parse_args()
    codecs = [c for c in args.codecs.split(",") if c]
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    print(f"{os.cpu_count()} cores; compbench run --dataset folder:path=DIR --codecs C --jobs 1, all core metrics; "
          f"worker peak RSS beyond its baseline, target <= {TARGET:g} bytes per pixel")
    measured, skipped, per_sample = [], 0, {}
    with tempfile.TemporaryDirectory() as scratch:
        root = args.keep or Path(scratch)
        tiny = one_image_folder(root, "tiny", 64, 3)
        for size in sizes:
            for kind in kinds:
                side, channels = SIDES[size], CHANNELS[kind]
                shape = (side, side) if channels == 1 else (side, side, 3)
                folder = one_image_folder(root, f"{size}mpx-{kind}", side, channels)
                for codec in codecs:
                    label = f"{size} Mpx {kind:4} {codec:8}"
                    if not takes(codec, shape):
                        print(f"{label}: n/a (the codec does not take {side}x{side}x{channels})")
                        continue
                    need = side * side * channels * per_sample.get(codec, GUESS_PER_SAMPLE)
                    free = available_bytes() or 0
                    if need > args.memory_fraction * free:  # the machine is shared: never call the OOM killer
                        print(f"{label}: not run: would need about {need / 2**30:.1f} GiB (at the bytes per sample "
                              f"measured on smaller images), {free / 2**30:.1f} GiB available", flush=True)
                        skipped += 1
                        continue
                    grown, baseline, wall = worker_growth(folder, codec, Path(scratch) / "out" / label.replace(" ", ""))
                    per_sample[codec] = max(per_sample.get(codec, 0), grown / (side * side * channels))
                    per_pixel = grown / (side * side)
                    where = steps(folder, tiny, codec)
                    parts = ", ".join(f"{name} {grew / (side * side):.1f}" for name, grew in where.items())
                    mark = "MISS" if per_pixel > TARGET else "ok"
                    print(f"{label}: {per_pixel:5.1f} bytes/px {mark} ({grown / 2**20:.0f} MiB beyond a baseline of "
                          f"{baseline / 2**20:.0f} MiB; {wall:.0f} s); in one process, bytes/px each step added "
                          f"to the peak: {parts}", flush=True)
                    measured.append(per_pixel)
    what, target = "worst worker peak beyond its baseline", f"<= {TARGET:g} bytes/px"
    checks = [at_most(what, max(measured), TARGET, unit=" bytes/px") if measured
              else not_measured(what, target, "nothing measured: every image n/a or not run")]
    if skipped:
        checks.append(not_measured(f"{skipped} image/codec pair(s) not run", target,
                                   "not run for lack of memory; their estimates above already miss"))
    return verdict_table(checks)


if __name__ == "__main__":
    sys.exit(main())

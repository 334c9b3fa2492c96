"""CPU cost of the core metrics, before and after, in a process set up like a run's worker.

    python benchmarks/bench_metrics.py [--repeat N] [--before REV] [--precision] [--memory]

Photographs: the `skimage` dataset (scikit-image's 19 bundled photographs, 8 colour and 11
gray, 0.01 to 2 megapixels; what ``compbench run --dataset skimage`` measures), each
JPEG-compressed at quality 30, measured one image per call as a worker measures a batch of one
shape: ms of CPU per megapixel, the set's total time over its total pixels. MNIST: the first
2,500 test digits (one work unit's worth) against a quantized, noisy copy: µs of CPU per digit.

"Before" is compbench/metrics/measure.py at ``--before`` (default: the last revision with the
numpy/scipy implementation), loaded from git into a module of its own; "after" is this
checkout. Both are timed in the same run, alternately (A B A B ...), ``--repeat`` times; each
figure is the shortest of its repeats: on a shared machine, noise only adds time. CPU time is
``time.process_time`` (every thread of the process), in a process configured as
``compbench.run.worker_process.worker_main`` configures a worker: one thread per numerical library
(OMP_NUM_THREADS and co., set before numpy loads; OpenCV follows OMP_NUM_THREADS) and the
worker's allocator (``keep_freed_memory``). Page faults are getrusage's minor faults.

Targets (the verdicts, from this run's numbers; exit 1 on a MISS):
- every core metric (``MetricSet.measure``: the fused pass and MS-SSIM) on the photographs
  at most 60 ms of CPU per megapixel;
- the MNIST fused pass no slower than before (within 5%: repeats of one build differ by that).

``--precision``: every metric's largest deviation from before over the photographs at JPEG
qualities 2 to 95 (MS-SSIM: float32 now). ``--memory``: the peak of the metrics' allocations
(tracemalloc: numpy's arrays; OpenCV's internal row buffers are a few rows) per pixel.
"""

from __future__ import annotations

import os

# As a worker sets them (compbench.run.worker_process.worker_main), before any numerical library loads.
WORKER_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
os.environ.update(WORKER_THREADS)

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from compbench.contracts.registry import build_registry  # noqa: E402
from compbench.metrics import CORE  # noqa: E402
from compbench.metrics import measure as after  # noqa: E402
from compbench.run.allocator import keep_freed_memory  # noqa: E402
from compbench.run.worker_process import THREAD_VARIABLES  # noqa: E402

#: the last revision whose metrics were numpy and scipy (float64) only
BEFORE = "ba26d9f"
TARGET_MS_PER_MPX = 60.0
MNIST_SLOWER_ALLOWED = 1.05
MNIST_BATCH = 2500  # the largest work unit a run makes
JPEG_QUALITY = 30


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' implementation")
    parser.add_argument("--precision", action="store_true", help="also: every metric's deviation from before")
    parser.add_argument("--memory", action="store_true", help="also: peak allocation per pixel")
    args = parser.parse_args()
    assert set(WORKER_THREADS) == set(THREAD_VARIABLES), "the worker's thread variables changed"
    keep_freed_memory()
    before = load_before(args.before)

    photos = photographs()
    megapixels = sum(x.shape[1] * x.shape[2] for _, x, _ in photos) / 1e6
    colour = sum(x.shape[1] * x.shape[2] for _, x, _ in photos if x.ndim == 4) / 1e6
    print(f"photographs: {len(photos)} from the skimage dataset, {megapixels:.2f} Mpx "
          f"({colour:.2f} Mpx colour), JPEG quality {JPEG_QUALITY}; before = {args.before}; "
          f"best of {args.repeat}, CPU time, worker threads {os.environ['OMP_NUM_THREADS']}\n")
    ok = photograph_costs(before, photos, megapixels, args.repeat)
    ok &= mnist_costs(before, args.repeat)
    if args.precision:
        precision(before)
    if args.memory:
        memory(before, photos)
    return 0 if ok else 1


# ------------------------------------------------------------------------------ the two builds


def load_before(revision: str):
    """compbench/metrics/measure.py at ``revision`` as a module of its own (it needs only
    numpy, and scipy for MS-SSIM)."""
    root = Path(__file__).resolve().parent.parent
    source = subprocess.run(["git", "-C", str(root), "show", f"{revision}:compbench/metrics/measure.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "measure_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("measure_before", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def all_core(module, x, y, nbytes):
    """Every core metric of a batch, as a worker computes them."""
    if module is after:
        return CORE.measure(x, y, nbytes, 0)
    values = module.image_metrics(x, y, nbytes, 0)  # MetricSet.measure then was these two
    values["ms_ssim"] = module.ms_ssim(x, y)
    return values


#: the parts of each build's fused pass, timed exclusively, and the metrics they make
PARTS = {
    "after": (("_histograms", "entropy, snr_paper"),
              ("sum_squares", "mse, psnr, snr_db (colour)"),
              ("luma_and_chroma_errors", "psnr_y, psnr_ycbcr; the luma for ssim"),
              ("plane_sums", "ssim; its sums give mse, psnr, snr_db (gray) and psnr_y")),
    "before": (("_colour_metrics", "psnr_y, psnr_ycbcr; the luma for ssim"),
               ("_ssim", "ssim")),
}


class Stopwatch:
    """CPU time inside some functions of a module, each exclusive of the others it calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[list] = []

    @contextmanager
    def timing(self, module, names):
        originals = {name: getattr(module, name) for name in names}

        def timed(name, function):
            def call(*args, **kwargs):
                frame = [name, time.process_time()]
                self._stack.append(frame)
                try:
                    return function(*args, **kwargs)
                finally:
                    self._stack.pop()
                    spent = time.process_time() - frame[1]
                    self.seconds[name] = self.seconds.get(name, 0.0) + spent
                    if self._stack:  # not the caller's own time
                        caller = self._stack[-1][0]
                        self.seconds[caller] = self.seconds.get(caller, 0.0) - spent
            return call

        for name, function in originals.items():
            setattr(module, name, timed(name, function))
        try:
            yield self
        finally:
            for name, function in originals.items():
                setattr(module, name, function)


def cpu(function, *args) -> tuple[float, int]:
    """CPU seconds and minor page faults of one call."""
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.process_time()
    function(*args)
    return time.process_time() - start, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


# ------------------------------------------------------------------------------ photographs


def photographs() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, original, reconstruction), batches of one image."""
    source = build_registry().dataset("skimage").open("all")
    out = []
    for name, x in zip(source.names, source.read(range(len(source))), strict=True):
        buffer = io.BytesIO()
        Image.fromarray(x).save(buffer, "JPEG", quality=JPEG_QUALITY)
        y = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
        out.append((Path(name).stem, x[None], y[None]))
    return out


def photograph_costs(before, photos, megapixels: float, repeat: int) -> bool:
    builds = {"before": before, "after": after}
    # name -> build -> image -> shortest CPU seconds; and page faults of the last repeat
    best: dict = {}
    faults: dict = {}
    for _ in range(repeat):
        for _, x, y in photos:
            for label, module in builds.items():  # A B A B: the load shifts both alike
                calls = (("fused", module.image_metrics, (x, y, [1000], 0)), ("ms_ssim", module.ms_ssim, (x, y)),
                         ("all", all_core, (module, x, y, [1000])))
                for what, function, arguments in calls:
                    seconds, minflt = cpu(function, *arguments)
                    key = (what, label, id(x))
                    best[key] = min(best.get(key, np.inf), seconds)
                    faults[key] = minflt

    def total(what, label, kind=None):
        chosen = [x for _, x, _ in photos if kind is None or (x.ndim == 4) == (kind == "colour")]
        mpx = sum(x.shape[1] * x.shape[2] for x in chosen) / 1e6
        return sum(best[what, label, id(x)] for x in chosen) / mpx * 1e3

    print("photographs, ms of CPU per megapixel     before     after   speed-up")
    for what, title in (("fused", "fused pass (all but ms_ssim)"), ("ms_ssim", "ms_ssim"),
                        ("all", "all core metrics (MetricSet.measure)")):
        for kind in (None, "colour", "gray"):
            b, a = total(what, "before", kind), total(what, "after", kind)
            label = title if kind is None else f"  {kind} only"
            print(f"  {label:38s} {b:8.1f}  {a:8.1f}  {b / a:7.1f}x")
    for label in ("before", "after"):
        minflt = sum(faults["all", label, id(x)] for _, x, _ in photos) / megapixels
        print(f"  page faults per megapixel, all core metrics, {label}: {minflt:.0f}")

    print("\n  the fused pass by part (exclusive CPU time), ms per megapixel:")
    fused_parts(builds, [(x, y, [1000], 0) for _, x, y in photos], repeat, megapixels / 1e3)

    measured = total("all", "after")
    verdict = measured <= TARGET_MS_PER_MPX
    print(f"\nall core metrics on photographs: {measured:.1f} ms/Mpx (target <= {TARGET_MS_PER_MPX:g}) "
          f"{'PASS' if verdict else 'MISS'}\n")
    return verdict


def fused_parts(builds, calls, repeat: int, per: float) -> None:
    """Print each build's fused pass by part (:data:`PARTS`): CPU seconds / ``per`` over the
    calls, the shortest of ``repeat`` per call."""
    for label, module in builds.items():
        watch = Stopwatch()
        seconds = {}
        for _ in range(repeat):
            with watch.timing(module, [name for name, _ in PARTS[label]]):
                for i, arguments in enumerate(calls):
                    watch.seconds.clear()
                    spent, _ = cpu(module.image_metrics, *arguments)
                    for name, value in dict(watch.seconds, rest=spent - sum(watch.seconds.values())).items():
                        seconds[name, i] = min(seconds.get((name, i), np.inf), value)
        print(f"    {label}:")
        for name, metrics in PARTS[label] + (("rest", "tiling, bytes, bpp, the rest"),):
            value = sum(seconds.get((name, i), 0.0) for i in range(len(calls))) / per
            print(f"      {name:24s} {value:7.2f}   {metrics}")


# ------------------------------------------------------------------------------ MNIST


def mnist(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = build_registry().dataset("mnist").load("test").images[:n]
    noise = np.random.default_rng(1).normal(0, 6, x.shape)
    return x, np.clip(np.rint(np.rint(x / 16) * 16 + noise), 0, 255).astype(np.uint8)


def mnist_costs(before, repeat: int) -> bool:
    x, y = mnist(MNIST_BATCH)
    nbytes = np.full(len(x), 400)
    builds = {"before": before, "after": after}
    best = {}
    for _ in range(max(repeat, 10)):  # cheap: more repeats steady the comparison
        for label, module in builds.items():
            for what, function, arguments in (("fused", module.image_metrics, (x, y, nbytes, 300)),
                                              ("all", all_core, (module, x, y, nbytes))):
                seconds, _ = cpu(function, *arguments)
                best[what, label] = min(best.get((what, label), np.inf), seconds / len(x) * 1e6)
    print(f"MNIST, {len(x)} test digits per call, µs of CPU per digit   before     after")
    for what, title in (("fused", "fused pass"), ("all", "all core metrics (MetricSet.measure)")):
        print(f"  {title:54s} {best[what, 'before']:8.2f}  {best[what, 'after']:8.2f}")
    print("  the fused pass by part (exclusive CPU time), µs per digit:")
    fused_parts(builds, [(x, y, nbytes, 300)], max(repeat, 10), len(x) / 1e6)
    ratio = best["fused", "after"] / best["fused", "before"]
    verdict = ratio <= MNIST_SLOWER_ALLOWED
    print(f"\nMNIST fused pass after / before: {ratio:.2f} (target <= {MNIST_SLOWER_ALLOWED:g}, no slower) "
          f"{'PASS' if verdict else 'MISS'}\n")
    return verdict


# ------------------------------------------------------------------------------ --precision, --memory


def precision(before) -> None:
    """Largest relative deviation of every metric from before, over the photographs at several
    JPEG qualities."""
    source = build_registry().dataset("skimage").open("all")
    worst: dict[str, tuple[float, str]] = {}
    for name, x in zip(source.names, source.read(range(len(source))), strict=True):
        for quality in (2, 10, 30, 60, 95):
            buffer = io.BytesIO()
            Image.fromarray(x).save(buffer, "JPEG", quality=quality)
            y = np.asarray(Image.open(io.BytesIO(buffer.getvalue())))
            old, new = all_core(before, x[None], y[None], [1000]), all_core(after, x[None], y[None], [1000])
            for metric, value in new.items():
                if metric not in old or not np.isfinite(old[metric][0]):
                    continue
                deviation = abs(value[0] / old[metric][0] - 1.0) if old[metric][0] else abs(value[0])
                if deviation >= worst.get(metric, (-1.0, ""))[0]:
                    worst[metric] = (deviation, f"{Path(name).stem} q{quality}")
    print("largest relative deviation from before, photographs at JPEG qualities 2-95:")
    for metric, (deviation, where) in worst.items():
        print(f"  {metric:12s} {deviation:9.1e}  ({where})")
    print()


def memory(before, photos) -> None:
    """Peak bytes the metrics allocate per pixel (tracemalloc), on the largest photograph and
    on it tiled to ~24 megapixels (after only: before needs gigabytes there)."""
    _, x, y = max(photos, key=lambda p: p[1].size)
    big_x, big_y = (np.tile(a, (1, 3, 4, 1)) for a in (x, y))
    print("peak allocation of all core metrics, bytes per pixel (inputs not counted):")
    for label, module, (a, b) in (("before", before, (x, y)), ("after", after, (x, y)),
                                  ("after", after, (big_x, big_y))):
        all_core(module, a, b, [1000])  # imports and caches outside the measurement
        tracemalloc.start()
        all_core(module, a, b, [1000])
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        pixels = a.shape[1] * a.shape[2]
        print(f"  {label:6s} {a.shape[1]}x{a.shape[2]}x{a.shape[3] if a.ndim == 4 else 1} "
              f"({pixels / 1e6:.1f} Mpx): {peak / pixels:6.1f}")
    print()


if __name__ == "__main__":
    sys.exit(main())

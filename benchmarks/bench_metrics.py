"""CPU cost of the core metrics, before and after, in a process set up like a run's worker.

    python benchmarks/bench_metrics.py [--repeat N] [--before REV] [--precision] [--memory]

Photographs: the `skimage` dataset (scikit-image's 19 bundled photographs, 8 colour and 11
gray, 0.01 to 2 megapixels; what ``compbench run --dataset skimage`` measures), each
JPEG-compressed at quality 30, measured one image per call as a worker measures a batch of one
shape: ms of CPU per megapixel, the set's total time over its total pixels. MNIST: the first
2,500 test digits (one work unit's worth) against a quantized, noisy copy: µs of CPU per digit.

"Before" is compbench/metrics/measure.py at ``--before`` (default: the last revision with the
numpy/scipy implementation), loaded from git into a module of its own; "after" is this
checkout. Both are timed in the same run, in alternate rounds (A B A B ...), ``--repeat`` of
them (MNIST: at least 10) after a warm-up round that is not kept; each figure printed is the
median over the rounds, and each speed-up or after/before ratio the median of the rounds'
ratios (before and after of one round are a pair). CPU time is
``time.process_time`` (every thread of the process), in a process configured as
``compbench.run.worker_process.worker_main`` configures a worker: one thread per numerical library
(OMP_NUM_THREADS and co., set before numpy loads; OpenCV follows OMP_NUM_THREADS) and the
worker's allocator (``keep_freed_memory``). Page faults are getrusage's minor faults.

Targets (the verdicts, from this run's numbers, in the benchmarks' shared verdict table;
exit 1 on a MISS):
- every core metric (``MetricSet.measure``: the fused pass and MS-SSIM) on the photographs
  at most 60 ms of CPU per megapixel (the median over the rounds);
- the MNIST fused pass no slower than before (within 5%: repeats of one build differ by that):
  the median of the rounds' after / before ratios.

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
import math  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from _common import Check, Sample, at_most, interleave, median, paired_ratio, verdict_table  # noqa: E402
from PIL import Image  # noqa: E402

from compbench.contracts.registry import build_registry  # noqa: E402
from compbench.metrics import CORE  # noqa: E402
from compbench.metrics import measure as after  # noqa: E402
from compbench.run.allocator import keep_freed_memory  # noqa: E402
from compbench.run.machine import THREAD_VARIABLES  # noqa: E402

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
          f"medians of {args.repeat} alternate rounds, CPU time, worker threads {os.environ['OMP_NUM_THREADS']}\n")
    checks = [photograph_costs(before, photos, megapixels, args.repeat), mnist_costs(before, args.repeat)]
    if args.precision:
        precision(before)
    if args.memory:
        memory(before, photos)
    return verdict_table(checks)


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


def alternate(builds: dict, one_round, repeat: int) -> dict[str, list]:
    """``one_round(label, module)`` of each build in turn (before, after, before, after ...),
    ``repeat`` rounds after one that is not kept (imports, caches, first calls): build label ->
    what each kept round returned, in round order."""
    return interleave({label: partial(one_round, label, module) for label, module in builds.items()}, repeat,
                      warmup=1)


def cpu_samples(rounds: list[dict], keys) -> list[Sample]:
    """Per round, the CPU seconds summed over ``keys`` (of a round's key -> (seconds, faults))."""
    return [Sample(math.nan, sum(found[key][0] for key in keys)) for found in rounds]


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


def photograph_costs(before, photos, megapixels: float, repeat: int) -> Check:
    builds = {"before": before, "after": after}

    def one_round(_, module) -> dict:
        """(what, image) -> (CPU seconds, minor page faults) of each call, every photograph."""
        found = {}
        for _, x, y in photos:
            calls = (("fused", module.image_metrics, (x, y, [1000], 0)), ("ms_ssim", module.ms_ssim, (x, y)),
                     ("all", all_core, (module, x, y, [1000])))
            for what, function, arguments in calls:
                found[what, id(x)] = cpu(function, *arguments)
        return found

    rounds = alternate(builds, one_round, repeat)

    def samples(what, label, kind=None) -> tuple[list[Sample], float]:
        """Per round, the CPU seconds of ``what`` over the photographs (of ``kind``), and their Mpx."""
        chosen = [x for _, x, _ in photos if kind is None or (x.ndim == 4) == (kind == "colour")]
        return cpu_samples(rounds[label], [(what, id(x)) for x in chosen]), sum(x.shape[1] * x.shape[2]
                                                                                 for x in chosen) / 1e6

    def ms_per_mpx(what, label, kind=None) -> float:
        seconds, mpx = samples(what, label, kind)
        return median(s.cpu for s in seconds) / mpx * 1e3

    print("photographs, ms of CPU per megapixel     before     after   speed-up")
    for what, title in (("fused", "fused pass (all but ms_ssim)"), ("ms_ssim", "ms_ssim"),
                        ("all", "all core metrics (MetricSet.measure)")):
        for kind in (None, "colour", "gray"):
            b, a = ms_per_mpx(what, "before", kind), ms_per_mpx(what, "after", kind)
            speed_up = paired_ratio(samples(what, "before", kind)[0], samples(what, "after", kind)[0], "cpu")
            label = title if kind is None else f"  {kind} only"
            print(f"  {label:38s} {b:8.1f}  {a:8.1f}  {speed_up:7.1f}x")
    for label in ("before", "after"):
        minflt = median(sum(found["all", id(x)][1] for _, x, _ in photos) for found in rounds[label]) / megapixels
        print(f"  page faults per megapixel, all core metrics, {label}: {minflt:.0f}")

    print("\n  the fused pass by part (exclusive CPU time), ms per megapixel:")
    fused_parts(builds, [(x, y, [1000], 0) for _, x, y in photos], repeat, megapixels / 1e3)
    print()
    return at_most(f"all core metrics on the photographs, CPU: median of {repeat} rounds",
                   ms_per_mpx("all", "after"), TARGET_MS_PER_MPX, " ms/Mpx", ".1f")


def fused_parts(builds, calls, repeat: int, per: float) -> None:
    """Print each build's fused pass by part (:data:`PARTS`): CPU seconds / ``per`` over the
    calls, the median of ``repeat`` alternate rounds per call."""

    def one_round(label, module) -> dict:
        """(part, call) -> exclusive CPU seconds, every call once."""
        watch, found = Stopwatch(), {}
        with watch.timing(module, [name for name, _ in PARTS[label]]):
            for i, arguments in enumerate(calls):
                watch.seconds.clear()
                spent, _ = cpu(module.image_metrics, *arguments)
                for name, value in dict(watch.seconds, rest=spent - sum(watch.seconds.values())).items():
                    found[name, i] = value
        return found

    rounds = alternate(builds, one_round, repeat)
    for label in builds:
        print(f"    {label}:")
        for name, metrics in PARTS[label] + (("rest", "tiling, bytes, bpp, the rest"),):
            value = sum(median(found.get((name, i), 0.0) for found in rounds[label]) for i in range(len(calls))) / per
            print(f"      {name:24s} {value:7.2f}   {metrics}")


# ------------------------------------------------------------------------------ MNIST


def mnist(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = build_registry().dataset("mnist").load("test").images[:n]
    noise = np.random.default_rng(1).normal(0, 6, x.shape)
    return x, np.clip(np.rint(np.rint(x / 16) * 16 + noise), 0, 255).astype(np.uint8)


def mnist_costs(before, repeat: int) -> Check:
    x, y = mnist(MNIST_BATCH)
    nbytes = np.full(len(x), 400)
    builds = {"before": before, "after": after}
    repeat = max(repeat, 10)  # cheap: more rounds steady the comparison

    def one_round(_, module) -> dict:
        return {what: cpu(function, *arguments) for what, function, arguments in
                (("fused", module.image_metrics, (x, y, nbytes, 300)), ("all", all_core, (module, x, y, nbytes)))}

    rounds = alternate(builds, one_round, repeat)
    per_digit = {(what, label): median(found[what][0] for found in rounds[label]) / len(x) * 1e6
                 for what in ("fused", "all") for label in builds}
    print(f"MNIST, {len(x)} test digits per call, µs of CPU per digit   before     after")
    for what, title in (("fused", "fused pass"), ("all", "all core metrics (MetricSet.measure)")):
        print(f"  {title:54s} {per_digit[what, 'before']:8.2f}  {per_digit[what, 'after']:8.2f}")
    print("  the fused pass by part (exclusive CPU time), µs per digit:")
    fused_parts(builds, [(x, y, nbytes, 300)], repeat, len(x) / 1e6)
    ratio = paired_ratio(cpu_samples(rounds["after"], ["fused"]), cpu_samples(rounds["before"], ["fused"]), "cpu")
    print()
    return at_most(f"MNIST fused pass after / before (no slower), CPU: median of {repeat} pairs' ratios",
                   ratio, MNIST_SLOWER_ALLOWED, "x", ".3f")


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

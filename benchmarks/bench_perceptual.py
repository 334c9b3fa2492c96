"""CPU cost of the perceptual metrics (SSIMULACRA 2, FLIP) per megapixel, beside the default ones.

    python benchmarks/bench_perceptual.py [--digits N]

On scikit-image's photographs (astronaut, coffee, chelsea: colour; camera: gray; JPEG quality
30 copies) and on DIGITS (default 2,000) 28x28 MNIST test digits (random images without the
MNIST adapter), prints the CPU time per megapixel (best of three, one thread: a worker's
share) of

- the metrics every run computes (``MetricSet.measure`` of the core set: the fused pass and
  MS-SSIM), against the harness's budget of 60 ms per megapixel for all of them together;
- ``ssimulacra2`` and ``flip``, each as a multiple of that budget: above it, a metric is
  optional (``--metrics-extra``), as both are. flip-evaluator is a declared dependency here:
  without it (or the flip plugin) FLIP's checks are NOT MEASURED, which fails the run.

Verdicts (exit 1 on a MISS) are on what docs/metrics.md claims: SSIMULACRA 2 under 600 ms/Mpx
on photographs and under 400 ms/Mpx on digits, FLIP under 6 s/Mpx on both, and neither in the
default set; they are printed in the benchmarks' shared verdict table.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before OpenCV starts its pool: one worker's share

import numpy as np  # noqa: E402

from compbench.metrics import CORE, MetricSet  # noqa: E402
from compbench.metrics.measure import image_metrics  # noqa: E402
from compbench.metrics.ssimulacra2 import ssimulacra2  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from _common import at_most, not_measured, verdict_table  # noqa: E402

BUDGET_MS = 60.0  # all default metrics together, per megapixel
#: what docs/metrics.md states, ms per megapixel: (photographs, digits)
CLAIMS = {"ssimulacra2": (600.0, 400.0), "flip": (6000.0, 6000.0)}


def photographs() -> list[tuple[np.ndarray, np.ndarray]]:
    import skimage.data
    from PIL import Image

    pairs = []
    for name in ("astronaut", "coffee", "chelsea", "camera"):
        x = getattr(skimage.data, name)()
        buffer = io.BytesIO()
        Image.fromarray(x).save(buffer, "JPEG", quality=30)
        pairs.append((x[None], np.asarray(Image.open(buffer))[None]))
    return pairs


def digits(n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    try:
        from compbench.contracts.registry import build_registry

        x = build_registry().dataset("mnist").load("test").images[:n]
    except Exception as exc:  # run without the MNIST adapter too
        print(f"(MNIST unavailable, random digits: {exc})")
        x = np.random.default_rng(0).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    noise = np.random.default_rng(1).normal(0, 6, x.shape)
    y = np.clip(np.rint(np.rint(x / 16) * 16 + noise), 0, 255).astype(np.uint8)
    return [(x, y)]


def cpu_ms_per_megapixel(fn, pairs, repeat: int = 3) -> float:
    megapixels = sum(x.shape[0] * x.shape[1] * x.shape[2] for x, _ in pairs) / 1e6
    fn(*pairs[0])  # warm up imports and caches
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        for x, y in pairs:
            fn(x, y)
        best = min(best, time.process_time() - start)
    return best / megapixels * 1e3


def metrics() -> tuple[dict, dict[str, str]]:
    """The metrics to time, and why any of :data:`CLAIMS` cannot be (name -> reason)."""
    try:
        from compbench_metrics.flip import flip_available, mean_flip
    except ImportError as exc:
        return {"ssimulacra2": ssimulacra2}, {"flip": f"flip plugin not importable: {exc}"}
    available = flip_available()
    if not available.ok:
        return {"ssimulacra2": ssimulacra2}, {"flip": f"{available.reason}; {available.fix}"}
    return {"ssimulacra2": ssimulacra2, "flip": mean_flip}, {}


def main(n_digits: int = 2000) -> int:
    load = os.getloadavg()[0]
    print(f"load average {load:.1f} on {os.cpu_count()} cores (a loaded machine inflates every figure)")
    sets = {"photographs": photographs(), f"{n_digits} digits": digits(n_digits)}
    default = MetricSet.for_run(None, ())
    checks = [at_most(f"{name} in the default metric set (1 = yes)", float(name in default), 0, fmt=".0f")
              for name in CLAIMS]
    timed, missing = metrics()
    for name, why in missing.items():
        print(f"{name}: not timed: {why}")
    for index, (label, pairs) in enumerate(sets.items()):
        baseline = cpu_ms_per_megapixel(lambda x, y: CORE.measure(x, y, np.full(len(x), 1000), 0), pairs)
        fused = cpu_ms_per_megapixel(lambda x, y: image_metrics(x, y, np.full(len(x), 1000), 0), pairs)
        print(f"\n{label}: default metrics {baseline:.0f} ms/Mpx ({baseline / BUDGET_MS:.2f}x the "
              f"{BUDGET_MS:.0f} ms/Mpx budget; the fused pass {fused:.0f}, MS-SSIM the rest)")
        for name, why in missing.items():
            checks.append(not_measured(f"{name} on {label}", f"<= {CLAIMS[name][index]:g} ms/Mpx", why))
        for name, fn in timed.items():
            subset = pairs if name != "flip" or index == 0 else [(x[:250], y[:250]) for x, y in pairs]
            cost = cpu_ms_per_megapixel(fn, subset, repeat=1 if name == "flip" else 3)
            print(f"  {name}: {cost:.0f} ms/Mpx = {cost / BUDGET_MS:.1f}x the budget, "
                  f"{cost / baseline:.1f}x the default metrics")
            checks.append(at_most(f"{name} on {label}", cost, CLAIMS[name][index], " ms/Mpx", ".0f"))
    return verdict_table(checks)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--digits", type=int, default=2000, help="MNIST-sized digits to time (default 2000)")
    sys.exit(main(parser.parse_args().digits))

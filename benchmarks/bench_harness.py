"""Harness speed (issue 3), printed as figures and ratios measured in one run.

1. ``compbench run --codecs jpeg,jpeg2000`` over the 10,000 MNIST test images, cold start,
   wall time (target <= 15 s on 2 cores).
2. Harness overhead: a pass-through codec run through the harness (api.run, default jobs)
   against a bare loop that round-trips the same images through imagecodecs JPEG
   (target: harness throughput >= 50% of the bare loop's).

Run: python benchmarks/bench_harness.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np

from compbench import api
from compbench.codec import Codec, CodecFactory
from compbench.hookspecs import hookimpl
from compbench.plugins import build_registry

WALL_TARGET_S = 15.0
THROUGHPUT_TARGET = 0.5


class PassThrough(Codec):
    """The cheapest honest codec: the raw pixels are the bitstream (shape in 2 bytes)."""

    def encode(self, image):
        return bytes(image.shape[:2]) + image.tobytes()

    def decode(self, data):
        return np.frombuffer(data, np.uint8, offset=2).reshape(data[0], data[1])


class PassThroughFactory(CodecFactory):
    name = "passthrough"
    description = "raw pixels (benchmark only)"

    def create(self, **settings):
        return PassThrough(**settings)


def passthrough_registry():
    plugin = types.SimpleNamespace(register_codecs=hookimpl(lambda register: register(PassThroughFactory())))
    return build_registry(extra_plugins=[("passthrough", plugin)])


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_jpeg_loop(images: np.ndarray) -> None:
    import imagecodecs

    for image in images:
        imagecodecs.jpeg_decode(imagecodecs.jpeg_encode(image, level=75))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    compbench = Path(sys.executable).parent / "compbench"
    ok = True

    with tempfile.TemporaryDirectory() as tmp:
        command = [str(compbench), "run", "--codecs", "jpeg,jpeg2000", "--out", f"{tmp}/run", "--quiet"]
        wall = best_of(args.repeat, lambda: subprocess.run(command, check=True, capture_output=True))
    verdict = "PASS" if wall <= WALL_TARGET_S else "FAIL"
    ok &= wall <= WALL_TARGET_S
    print(f"compbench run --codecs jpeg,jpeg2000, 10k MNIST test images, cold: {wall:.2f} s wall "
          f"(target <= {WALL_TARGET_S:.0f} s) {verdict}")

    registry = passthrough_registry()
    images = registry.dataset("mnist").load("test").images
    bare = best_of(args.repeat, lambda: bare_jpeg_loop(images))
    harness = best_of(args.repeat, lambda: api.run("passthrough", write=False, registry=registry))
    ratio = bare / harness  # throughput ratio = inverse time ratio, same images
    verdict = "PASS" if ratio >= THROUGHPUT_TARGET else "FAIL"
    ok &= ratio >= THROUGHPUT_TARGET
    print(f"bare imagecodecs JPEG round-trip loop: {len(images) / bare:,.0f} images/s ({bare:.3f} s)")
    print(f"pass-through codec through the harness: {len(images) / harness:,.0f} images/s ({harness:.3f} s)")
    print(f"harness / bare throughput: {ratio:.2f} (target >= {THROUGHPUT_TARGET}) {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

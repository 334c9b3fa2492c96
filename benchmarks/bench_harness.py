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
import sys
import types

import numpy as np
from _common import best_of, time_cli, verdict

from compbench import api
from compbench.contracts.codec import Codec, CodecFactory
from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.registry import build_registry

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


def bare_jpeg_loop(images: np.ndarray) -> None:
    import imagecodecs

    for image in images:
        imagecodecs.jpeg_decode(imagecodecs.jpeg_encode(image, level=75))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    wall = time_cli(["run", "--codecs", "jpeg,jpeg2000"], args.repeat)
    ok = verdict("compbench run --codecs jpeg,jpeg2000, 10k MNIST test images, cold, wall", wall, WALL_TARGET_S)

    registry = passthrough_registry()
    images = registry.dataset("mnist").load("test").images
    bare = best_of(args.repeat, lambda: bare_jpeg_loop(images))
    harness = best_of(args.repeat, lambda: api.run("passthrough", write=False, registry=registry))
    ratio = bare / harness  # throughput ratio = inverse time ratio, same images
    print(f"bare imagecodecs JPEG round-trip loop: {len(images) / bare:,.0f} images/s ({bare:.3f} s)")
    print(f"pass-through codec through the harness: {len(images) / harness:,.0f} images/s ({harness:.3f} s)")
    ok &= verdict("harness / bare throughput", ratio, THROUGHPUT_TARGET, unit="x", higher_is_better=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

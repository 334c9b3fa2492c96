"""How fast every built-in decoder refuses garbage: the speed claim the tests no longer assert.

    python benchmarks/bench_garbage_decode.py [N]

tests/test_decoder_fuzz.py and tests/test_jpeg2000.py check that random, truncated, bit-flipped
and spliced bytes decode or raise cleanly, with hang bounds that cannot fire on a slow machine.
Here, on a machine as quiet as can be had, N mutations (default 300) of each codec's own
bitstreams (the kit's sample images; JPEG 2000 through both backends) are decoded one at a
time, and the slowest single decode must stay under a second (target, per codec).
"""

from __future__ import annotations

import sys
import time

import numpy as np
from _common import at_most, verdict_table

from compbench.contracts.registry import build_registry
from compbench.run.spec import make_spec
from compbench.testing import sample_images

SLOWEST_TARGET_S = 1.0


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """Random bytes, a truncation, a few flipped bits, or a valid start with random bytes after."""
    kind, data = rng.integers(4), bytearray(data)
    if kind == 0:
        return rng.integers(0, 256, rng.integers(0, 2 * len(data) + 1), dtype=np.uint8).tobytes()
    if kind == 1:
        return bytes(data[: rng.integers(0, len(data))])
    if kind == 2:
        for _ in range(rng.integers(1, 9)):
            data[rng.integers(len(data))] ^= 1 << rng.integers(8)
        return bytes(data)
    cut = rng.integers(0, len(data) + 1)
    return bytes(data[:cut]) + rng.integers(0, 256, rng.integers(0, len(data) + 1), dtype=np.uint8).tobytes()


def slowest_decode(codec, blobs: list[bytes], count: int, seed: int) -> tuple[float, int]:
    """The slowest of ``count`` garbage decodes (seconds) and how many raised."""
    rng, slowest, raised = np.random.default_rng(seed), 0.0, 0
    for _ in range(count):
        data = mutate(blobs[rng.integers(len(blobs))], rng)
        start = time.perf_counter()
        try:
            codec.decode(data)
        except Exception:
            raised += 1
        slowest = max(slowest, time.perf_counter() - start)
    return slowest, raised


def main(count: int) -> int:
    registry = build_registry()
    checks = []
    for name in sorted(n for n, r in registry.codecs.items() if r.provenance.distribution == "compbench"):
        factory = registry.codec(name)
        if not factory.available().ok:
            print(f"{name}: not available here ({factory.available().reason})")
            continue
        variants = [{}, {"backend": "imagecodecs"}] if name == "jpeg2000" else [{}]
        for given in variants:
            codec = factory.create(**make_spec(factory, given).kwargs)
            shape = factory.sizes[0] if factory.sizes else (28, 28)
            blobs = [bytes(codec.encode(image)) for image in sample_images(shape)]
            slowest, raised = slowest_decode(codec, blobs, count, seed=12)
            label = name + "".join(f":{k}={v}" for k, v in given.items())
            checks.append(at_most(f"{label}: slowest of {count} garbage decodes ({raised} raised)", slowest,
                                  SLOWEST_TARGET_S, unit=" s", fmt=".3f"))
    return verdict_table(checks)


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 300))

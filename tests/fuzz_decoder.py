"""Feed one codec's decoder random, truncated and bit-flipped bytes (run as a script, in its
own process, so a crash shows as the process's death instead of taking pytest down).

Every decode must return or raise an ``Exception``: a C-level watchdog (faulthandler) ends the
process with a traceback if one hangs. Its limit is a hang detector, far above any honest
decode even on a loaded machine; how fast garbage is refused is measured in
benchmarks/bench_garbage_decode.py. Each codec that handled every input is announced on
stdout ("survived NAME") before the next starts, so a caller that sees the process die knows
which codec killed it. Exit 0 means every input of every codec was handled.
Usage: python fuzz_decoder.py EXAMPLES CODEC [CODEC ...]
"""

import faulthandler
import sys

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compbench.contracts.registry import build_registry
from compbench.run.spec import make_spec
from compbench.testing import sample_images

#: seconds one decode may take before it counts as a hang (a decode of these inputs takes
#: milliseconds; the benchmark holds them to well under a second)
DEADLINE_S = 30.0


def main(name: str, examples: int) -> int:
    factory = build_registry().codec(name)
    codec = factory.create(**make_spec(factory, {}).kwargs)
    shape = factory.sizes[0] if factory.sizes else (28, 28)
    valid = [bytes(codec.encode(image)) for image in sample_images(shape)]

    def decode(data: bytes) -> None:
        faulthandler.dump_traceback_later(DEADLINE_S, exit=True)
        try:
            codec.decode(data)
        except Exception:
            pass  # a clean refusal is what we want
        finally:
            faulthandler.cancel_dump_traceback_later()

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def mutate(data):
        original = data.draw(st.sampled_from(valid))
        kind = data.draw(st.sampled_from(["random", "truncated", "flipped", "spliced"]))
        if kind == "random":
            blob = data.draw(st.binary(max_size=2 * len(original)))
        elif kind == "truncated":
            blob = original[: data.draw(st.integers(0, max(len(original) - 1, 0)))]
        elif kind == "flipped":
            mutable = bytearray(original)
            for _ in range(data.draw(st.integers(1, 8))):
                position = data.draw(st.integers(0, len(mutable) - 1))
                mutable[position] ^= 1 << data.draw(st.integers(0, 7))
            blob = bytes(mutable)
        else:  # a valid header with random bytes after it
            cut = data.draw(st.integers(0, len(original)))
            blob = original[:cut] + data.draw(st.binary(max_size=len(original)))
        decode(blob)

    mutate()
    return 0


if __name__ == "__main__":
    for name in sys.argv[2:]:
        main(name, int(sys.argv[1]))
        print("survived", name, flush=True)

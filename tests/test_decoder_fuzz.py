"""Every built-in decoder, given random, truncated, bit-flipped or spliced bytes, returns or
raises a clean exception; it never crashes the process or hangs (how fast it refuses garbage is
benchmarks/bench_garbage_decode.py's to measure)."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import builtin_registry, skip_unless_ci

BUILT_IN = sorted(name for name, entry in builtin_registry().codecs.items()
                  if entry.provenance.distribution == "compbench")


@pytest.mark.parametrize("name", BUILT_IN)
def test_decoder_survives_garbage(name):
    factory = builtin_registry().codec(name)
    status = factory.available()
    if not status.ok:
        skip_unless_ci(f"{name} not available: {status.reason}")
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("fuzz_decoder.py")), name, "150"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"{name}'s decoder crashed or hung (exit {done.returncode}) on garbage input:\n{done.stderr[-3000:]}")

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
FUZZ = Path(__file__).with_name("fuzz_decoder.py")
EXAMPLES = 150


@pytest.fixture(scope="module")
def fuzzed() -> dict[str, str | None]:
    """Every available built-in codec through fuzz_decoder.py: name -> None (survived) or why
    its process died. One process takes the codecs in turn; when one kills it (a crash, or the
    hang watchdog), the codec it was on is charged and a new process goes on with the rest."""
    remaining = [name for name in BUILT_IN if builtin_registry().codec(name).available().ok]
    outcome: dict[str, str | None] = {}
    while remaining:
        done = subprocess.run([sys.executable, str(FUZZ), str(EXAMPLES), *remaining], capture_output=True,
                              text=True, timeout=300 * len(remaining))
        survived = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("survived ")]
        assert survived == remaining[:len(survived)], done.stdout
        outcome.update(dict.fromkeys(survived))
        remaining = remaining[len(survived):]
        if remaining:
            assert done.returncode != 0, done.stdout
            outcome[remaining.pop(0)] = f"exit {done.returncode}: {done.stderr[-3000:]}"
    return outcome


@pytest.mark.parametrize("name", BUILT_IN)
def test_decoder_survives_garbage(name, fuzzed):
    status = builtin_registry().codec(name).available()
    if not status.ok:
        skip_unless_ci(f"{name} not available: {status.reason}")
    assert fuzzed[name] is None, f"{name}'s decoder crashed or hung on garbage input: {fuzzed[name]}"

"""Runs are deterministic: the same inputs give identical bitstreams and metrics, whatever the
number of worker processes, so a baseline can be gated with zero tolerance."""

import os
import subprocess
import sys

import pytest
from conftest import builtin_registry, run_cli

BUILTINS = sorted(name for name, r in builtin_registry().codecs.items() if r.provenance.distribution == "compbench")

#: every codec named on the command line encodes the same images, in that order: one line each
DIGEST_SCRIPT = """
import hashlib, sys
from compbench.contracts.registry import build_registry
from compbench.run.spec import make_spec
registry = build_registry()
images = registry.dataset("mnist").load("test").images[:64]
for name in sys.argv[1:]:
    factory = registry.codec(name)
    codec = factory.create(**make_spec(factory, {}).kwargs)
    print(name, hashlib.sha256(b"".join(codec.encode_batch(list(images)))).hexdigest(), flush=True)
"""


@pytest.fixture(scope="module")
def digests() -> list[dict[str, str]]:
    """Every built-in codec's digest from two fresh interpreters, which differ as much as two
    runs can: another hash seed (set, not left to chance), and the codecs in the opposite order
    (whatever one codec leaves behind in a process meets the others differently)."""
    found = []
    for seed, order in (("1", BUILTINS), ("2", BUILTINS[::-1])):
        done = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, *order], capture_output=True, text=True,
                              timeout=900, env={**os.environ, "PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr[-3000:]
        found.append(dict(line.split() for line in done.stdout.splitlines()))
    return found


@pytest.mark.parametrize("name", BUILTINS)
def test_bitstreams_identical_across_processes(name, digests):
    """Two fresh interpreters encode the same images to the same bytes."""
    first, second = (run[name] for run in digests)
    assert first == second and len(first) == 64


@pytest.mark.slow
def test_two_runs_compare_unchanged_with_zero_tolerance(tmp_path):
    codecs = ",".join(BUILTINS)
    for out, jobs in (("a", "1"), ("b", "2")):
        done = run_cli("run", "--codecs", codecs, "--limit", "200", "--jobs", jobs, "--out", tmp_path / out,
                       "--quiet", "--no-figures", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    compared = run_cli("compare", tmp_path / "a", tmp_path / "b", cwd=tmp_path)
    assert compared.returncode == 0, compared.stdout
    assert "0 regression(s), 0 improvement(s)" in compared.stdout

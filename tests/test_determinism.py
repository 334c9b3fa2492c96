"""Runs are deterministic: the same inputs give identical bitstreams and metrics, whatever the
number of worker processes, so a baseline can be gated with zero tolerance."""

import subprocess
import sys

import pytest
from conftest import run_cli

from compbench.contracts.registry import build_registry

REGISTRY = build_registry()
BUILTINS = sorted(name for name, r in REGISTRY.codecs.items() if r.provenance.distribution == "compbench")

DIGEST_SCRIPT = """
import hashlib, sys
from compbench.contracts.registry import build_registry
from compbench.run.spec import make_spec
registry = build_registry()
images = registry.dataset("mnist").load("test").images[:{count}]
factory = registry.codec(sys.argv[1])
codec = factory.create(**make_spec(factory, {{}}).kwargs)
print(hashlib.sha256(b"".join(codec.encode_batch(list(images)))).hexdigest())
"""


@pytest.mark.parametrize("name", BUILTINS)
def test_bitstreams_identical_across_processes(name):
    """Two fresh interpreters encode the same images to the same bytes."""
    script = DIGEST_SCRIPT.format(count=64)
    digests = {subprocess.run([sys.executable, "-c", script, name], capture_output=True, text=True,
                              check=True).stdout.strip() for _ in range(2)}
    assert len(digests) == 1 and len(next(iter(digests))) == 64


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

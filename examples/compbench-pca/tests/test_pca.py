"""compbench-pca's own tests: the conformance kit on MNIST digits, the bitstream, the trainer,
and the installed plugin as compbench sees it."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from compbench import load_dataset
from compbench.testing import parametrize_codec_checks

from compbench_pca import PcaFactory, PcaTrainer, golomb
from compbench_pca import basis as basis_file

# The kit codes these instead of its own sample content for the fidelity checks: a codec
# fitted on digits is meant to reproduce digits, not noise.
DIGITS = np.stack(load_dataset("mnist", "test").read(range(40)))
COMPBENCH = Path(sys.executable).parent / "compbench"


@parametrize_codec_checks(PcaFactory(), images=DIGITS)
def test_conformance(check):
    check()


def codec(**given):
    factory = PcaFactory()
    settings = {p.name: p.default for p in factory.params}
    return factory.create(**{**settings, **given})


def test_every_byte_is_header_and_coefficient_codes():
    pca = codec(components=16, step=32)
    coefficients = pca.basis.quantize(DIGITS[:1].reshape(1, -1), 16, 32)[0]
    data = pca.encode(DIGITS[0])
    assert data[:3] == bytes([16, 32, 0])  # components, then step as uint16
    orders = pca.basis.golomb_orders(16, 32)
    assert data[3:] == golomb.encode(coefficients.tolist(), orders)
    assert golomb.decode(data[3:], orders) == coefficients.tolist()


def test_the_header_decodes_another_settings_bitstream():
    data = codec(components=8, step=100).encode(DIGITS[0])
    np.testing.assert_array_equal(codec(components=64, step=1).decode(data),
                                  codec(components=8, step=100).decode(data))


def test_more_components_cost_bytes_and_buy_fidelity():
    sizes, errors = [], []
    for count in (4, 16, 64):
        pca = codec(components=count, step=16)
        blobs = pca.encode_batch(list(DIGITS))
        sizes.append(sum(map(len, blobs)))
        errors.append(np.mean((np.stack(pca.decode_batch(blobs)).astype(float) - DIGITS) ** 2))
    assert sizes == sorted(sizes) and errors == sorted(errors, reverse=True)


@pytest.mark.parametrize("values,orders", [([0, -1, 1, -2, 300, -4096], [0, 0, 1, 2, 3, 9]), ([], [])])
def test_golomb_round_trip(values, orders):
    assert golomb.decode(golomb.encode(values, orders), orders) == values


def test_golomb_refuses_a_truncated_bitstream():
    data = golomb.encode([1000, 1000], [0, 0])
    with pytest.raises(ValueError, match="truncated"):
        golomb.decode(data[:2], [0, 0])


@pytest.fixture(scope="module")
def refitted(tmp_path_factory):
    """``compbench train pca`` with the defaults, as the command runs it (one fit, ~5-20 s)."""
    return PcaTrainer().train({}, tmp_path_factory.mktemp("basis"), log=print)


def test_refitting_with_the_defaults_rebuilds_the_shipped_basis_byte_for_byte(refitted):
    assert basis_file.sha256(refitted) == basis_file.SHIPPED_SHA256


def test_a_trained_basis_is_used_through_the_basis_parameter(refitted):
    pca = codec(components=8, basis=str(refitted))
    assert pca.basis.images == 60_000 and pca.basis is not basis_file.load(basis_file.SHIPPED)
    assert pca.decode(pca.encode(DIGITS[0])).shape == (28, 28)


def test_training_on_fewer_images_gives_another_basis(tmp_path):
    path = PcaTrainer().train({"components": 8, "limit": 500}, tmp_path, log=print)
    fitted = basis_file.load(path)
    assert fitted.components.shape == (8, 784) and fitted.images == 500


def test_a_changed_shipped_basis_makes_the_codec_unavailable(monkeypatch):
    monkeypatch.setattr(basis_file, "SHIPPED_SHA256", "0" * 64)
    basis_file.load.cache_clear()
    try:
        status = PcaFactory().available()
    finally:
        basis_file.load.cache_clear()
    assert not status.ok and "sha256" in status.reason and "pip install" in status.fix


def test_compbench_lists_the_plugin_with_its_distribution():
    wide = subprocess.run([COMPBENCH, "list", "--wide"], capture_output=True, text=True, check=True).stdout
    codec_line = next(line for line in wide.splitlines() if line.split()[:2] == ["codec", "pca"])
    assert "compbench-pca 0.1.0" in codec_line
    listing = subprocess.run([COMPBENCH, "list", "--json"], capture_output=True, text=True, check=True).stdout
    pca = next(codec for codec in json.loads(listing)["codecs"] if codec["name"] == "pca")
    assert (pca["distribution"], pca["version"], pca["available"]) == ("compbench-pca", "0.1.0", True)


def test_compbench_runs_the_plugin_beside_a_builtin(tmp_path):
    done = subprocess.run([COMPBENCH, "run", "--codecs", "pca,jpeg", "--limit", "200", "--out", tmp_path / "run"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    records = list(csv.DictReader((tmp_path / "run" / "records.csv").open()))
    pca = [r for r in records if r["codec"] == "pca"]
    assert len(pca) == 200 and not any(r["error"] for r in pca)
    assert 0.1 < np.mean([float(r["bpp"]) for r in pca]) < 0.5

"""DDCAE: exact bitstream round trips, the escape path, training, weights checks, lazy torch.

The conformance kit runs on ddcae in test_codecs.py; these are the codec-specific checks.
"""

import csv
import subprocess
import sys

import numpy as np
import pytest
from compbench_codecs.ddcae import TRAIN_FIX, DdcaeFactory, DdcaeTrainer, bitstream, weights_file
from compbench_codecs.ddcae.entropy import StepTable
from compbench_datasets.mnist import read_split

from compbench.contracts.errors import CompbenchError

FACTORY = DdcaeFactory()


@pytest.fixture(scope="module")
def images():
    return read_split("test").images[:300]


@pytest.fixture(scope="module")
def codec():
    return FACTORY.create(step=0.5, weights=None)


def psnr(x, y):
    mse = ((x.astype(float) - y) ** 2).reshape(len(x), -1).mean(axis=1)
    return 10 * np.log10(255**2 / mse)


def test_importing_the_plugin_does_not_import_torch():
    # a fresh interpreter: what `compbench list` does (load every plugin, ask each if available)
    script = (
        "import sys\n"
        "from compbench.contracts.registry import build_registry\n"
        "registry = build_registry()\n"
        "factory, trainer = registry.codec('ddcae'), registry.trainer('ddcae')\n"
        "assert factory.available().ok, factory.available()\n"
        "factory.library_versions(); trainer.available()\n"
        "import compbench_codecs.ddcae as plugin\n"
        "plugin.DdcaeFactory(); plugin.DdcaeTrainer()\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_bitstream_round_trip_is_exact(codec, images):
    blobs = codec.encode_batch(images)
    assert blobs == codec.encode_batch(images), "encoding twice gave different bytes"
    assert blobs[:20] == [codec.encode(image) for image in images[:20]]
    # the entropy coding is lossless: the decoder gets back exactly the encoder's integers
    q, steps = codec.decode_codes(blobs)
    np.testing.assert_array_equal(q, codec.quantized_codes(images))
    assert (steps == 0.5).all()
    decoded = np.stack(codec.decode_batch(blobs))
    np.testing.assert_array_equal(decoded, codec.reconstruct(q * 0.5))
    for i in range(20):
        np.testing.assert_array_equal(codec.decode(blobs[i]), decoded[i])
    assert decoded.shape == images.shape and decoded.dtype == np.uint8
    assert psnr(images, decoded).mean() > 20


@pytest.mark.parametrize("step", [0.0625, 0.3, 1.0, 2.8, 16.0])
def test_every_step_round_trips(images, step):
    codec = FACTORY.create(step=step, weights=None)
    assert abs(codec.step / step - 1) < 0.0014  # the header's log-scale step grid
    blobs = codec.encode_batch(images[:100])
    q, steps = codec.decode_codes(blobs)
    np.testing.assert_array_equal(q, codec.quantized_codes(images[:100]))
    assert (steps == codec.step).all()


def test_a_bitstream_decodes_with_any_codec_setting(images):
    """The step travels in the header: a codec at another step decodes the bytes the same."""
    coarse = FACTORY.create(step=2.0, weights=None)
    blobs = coarse.encode_batch(images[:10])
    other = FACTORY.create(step=0.25, weights=None)
    np.testing.assert_array_equal(np.stack(other.decode_batch(blobs)),
                                  np.stack(coarse.decode_batch(blobs)))


def test_rate_falls_and_distortion_rises_with_the_step(images):
    bpp, quality = [], []
    for step in (0.25, 1.0, 2.8):
        codec = FACTORY.create(step=step, weights=None)
        blobs = codec.encode_batch(images)
        bpp.append(np.mean([8 * len(b) / 784 for b in blobs]))
        quality.append(psnr(images, np.stack(codec.decode_batch(blobs))).mean())
    assert bpp[0] > bpp[1] > bpp[2] and quality[0] > quality[1] > quality[2]


def test_escape_path_codes_values_far_outside_the_fitted_range(codec, images):
    table = codec.table(codec._step_code)
    high = table.low + table.sizes - 1
    q = codec.quantized_codes(images[:4])
    q[0, 0] = high[0] + 1  # just above the range
    q[0, 5] = high[5] + 123_456  # far above
    q[1, 7] = table.low[7] - 1  # just below (negative: ReLU codes never are)
    q[2, :] = -(2**31 - 1)  # every dimension escaped, as far as allowed
    q[3, 63] = 2**31 - 1
    blobs = codec.encode_codes(q)
    decoded, _ = codec.decode_codes(blobs)
    np.testing.assert_array_equal(decoded, q)
    assert len(blobs[2]) > 64 * 64 / 8  # 64 escapes of ~64 bits each
    with pytest.raises(ValueError, match="2\\*\\*31"):
        codec.encode_codes(np.full((1, 64), 2**31))


def test_escape_through_the_image_path(codec, images, monkeypatch):
    """encode(image) when the network's code falls outside the fitted range."""
    table = codec.table(codec._step_code)
    far = codec.quantized_codes(images[:1])
    far[0, ::3] = table.low[::3] + table.sizes[::3] + 1000
    monkeypatch.setattr(codec, "quantized_codes", lambda imgs: far)
    data = codec.encode(images[0])
    np.testing.assert_array_equal(codec.decode(data), codec.reconstruct(far * codec.step)[0])


def test_range_coder_ending_is_exact_and_tight_on_random_messages():
    """The shortened ending decodes exactly for many different final intervals."""
    rng = np.random.default_rng(0)
    for trial in range(300):
        width = int(rng.integers(2, 40))
        weights = rng.integers(0, 1000, (64, width + 1)).astype(float) + 0.5
        table = StepTable(1.0, rng.integers(-5, 5, 64), np.full(64, width), weights)
        q = table.low + rng.integers(0, width, 64)
        q[rng.random(64) < 0.05] += rng.integers(-10**6, 10**6)  # some escapes
        symbols, escaped = table.symbols(q[None])
        payload = bitstream.encode_payload(symbols[0], table.escape_values(q[None])[0][escaped[0]],
                                           table)
        np.testing.assert_array_equal(bitstream.decode_payload(payload, table), q)
        assert len(payload) <= table.ideal_bits(q[None])[0] / 8 + 2, trial


def test_code_entropy_is_the_ideal_rate_beside_the_real_one(codec, images):
    blobs = codec.encode_batch(images)
    ideal = codec.extra_metrics(images)["code_entropy"]
    assert ideal.shape == (len(images),) and (ideal > 0).all()
    payload = np.array([8 * (len(b) - codec.overhead_bytes((28, 28))) / 784 for b in blobs])
    # the range coder ends within a byte or so of the ideal length
    assert 0 <= payload.mean() - ideal.mean() < 2 * 8 / 784


def test_header_steps_are_the_same_on_every_machine():
    """Rounding to 2**-24 makes the step independent of pow()'s last ulp, for every code."""
    for code in range(1 << bitstream.STEP_CODE_BITS):
        exact = 2.0 ** ((code - 2048) / 256) * 2**24
        assert abs(exact % 1 - 0.5) > 1e-6  # far from a rounding tie: an ulp cannot flip it
        assert bitstream.step_code(bitstream.step_from_code(code)) == code


def test_header_is_two_bytes_and_checked(codec, images):
    data = codec.encode(images[0])
    assert codec.overhead_bytes((28, 28)) == 2 and data[0] >> 4 == 1  # format version 1
    with pytest.raises(ValueError, match="too short"):
        codec.decode(b"\x17")
    with pytest.raises(ValueError, match="format version"):
        codec.decode(bytes([0x27]) + data[1:])


@pytest.mark.parametrize("bad", [np.zeros((28, 28), np.float32), np.zeros((28, 28, 3), np.uint8),
                                 np.zeros((32, 32), np.uint8), np.zeros(784, np.uint8)])
def test_rejects_images_that_are_not_28x28_gray_uint8(codec, bad):
    with pytest.raises(ValueError, match="28x28 grayscale uint8"):
        codec.encode(bad)


def test_figure_panels_are_the_papers_fig6_columns(codec, images):
    panels = codec.figure_panels(images[:3])
    noisy = panels["noisy input (sigma 10)"]
    assert noisy.shape == (3, 28, 28) and noisy.dtype == np.uint8 and (noisy != images[:3]).any()
    assert panels["code (8x8)"].shape == (3, 8, 8)


def test_one_epoch_lowers_the_loss_and_is_reproducible(tmp_path):
    lines = []
    settings = {"epochs": 1, "limit": 2000, "seed": 3}
    path = DdcaeTrainer().train(settings, tmp_path / "a", lines.append)
    assert path == tmp_path / "a" / "ddcae.safetensors"
    assert len(lines) == 1 and "test PSNR" in lines[0]
    rows = list(csv.DictReader((tmp_path / "a" / "training-log.csv").open()))
    assert [r["epoch"] for r in rows] == ["0", "1"]  # epoch 0: the initial weights
    assert float(rows[1]["train_loss"]) < float(rows[0]["train_loss"])
    assert float(rows[1]["test_loss"]) < float(rows[0]["test_loss"])
    assert (tmp_path / "a" / "loss-curve.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    trained = weights_file.load(path)
    assert trained.config["trainer"] == {**settings, "batch_size": 128, "noise": 10.0}
    # same seed, same bytes; the weights work as a codec
    again = DdcaeTrainer().train(settings, tmp_path / "b", lambda line: None)
    assert again.read_bytes() == path.read_bytes()
    codec = FACTORY.create(step=1.0, weights=str(path))
    digits = read_split("test").images[:5]
    assert np.stack(codec.decode_batch(codec.encode_batch(digits))).shape == digits.shape


def test_shipped_weights_record_their_training():
    shipped = weights_file.load(weights_file.DEFAULT_WEIGHTS)
    assert shipped.config["trainer"] == {p.name: p.default for p in DdcaeTrainer.params}
    assert shipped.config["train_images"] == 60000
    assert FACTORY.library_versions()["ddcae weights sha256"] == shipped.sha256
    assert weights_file.DEFAULT_WEIGHTS.stat().st_size < 5_000_000


def _refusal(path):
    with pytest.raises(CompbenchError) as caught:
        weights_file.load(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and TRAIN_FIX in message
    return message


@pytest.mark.parametrize("where", ["tensor data", "header"])
def test_tampered_weights_are_refused(tmp_path, where):
    data = bytearray(weights_file.DEFAULT_WEIGHTS.read_bytes())
    header_end = 8 + int.from_bytes(data[:8], "little")
    position = len(data) // 2 if where == "tensor data" else header_end - 40
    data[position : position + 4] = bytes(b ^ 0x5A for b in data[position : position + 4])
    tampered = tmp_path / "ddcae.safetensors"
    tampered.write_bytes(bytes(data))
    _refusal(tampered)
    with pytest.raises(CompbenchError, match=TRAIN_FIX):
        FACTORY.create(step=0.5, weights=str(tampered))


def test_truncated_missing_and_foreign_weights_are_refused(tmp_path):
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(weights_file.DEFAULT_WEIGHTS.read_bytes()[:1000])
    assert "corrupt" in _refusal(truncated)
    assert "missing" in _refusal(tmp_path / "nothing-here.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(3, np.float32)}, str(foreign), metadata={"format": "something else"})
    assert "not a DDCAE weights file" in _refusal(foreign)


def test_a_different_architecture_is_refused(tmp_path):
    shipped = weights_file.load(weights_file.DEFAULT_WEIGHTS)
    params = dict(shipped.params)
    params["encoder.4.weight"] = params["encoder.4.weight"][:32]  # a 32-value code
    path = tmp_path / "narrow.safetensors"
    weights_file.save(path, params, shipped.histogram, shipped.config)  # a valid checksum
    assert "encoder.4.weight" in _refusal(path)


def test_unavailable_without_weights(tmp_path, monkeypatch):
    monkeypatch.setattr(weights_file, "DEFAULT_WEIGHTS", tmp_path / "gone.safetensors")
    status = DdcaeFactory().available()
    assert not status.ok and "missing" in status.reason and status.fix == TRAIN_FIX


def test_shipped_files_are_in_the_package_folder():
    folder = weights_file.WEIGHTS_DIR
    assert DdcaeTrainer.default_out == folder
    names = {p.name for p in folder.iterdir()}
    assert {"ddcae.safetensors", "training-log.csv", "loss-curve.png"} <= names
    assert sum(p.stat().st_size for p in folder.iterdir()) < 5_000_000

"""DDCAE: exact bitstream round trips, the escape path, training, weights checks.

The conformance kit runs on ddcae in test_codecs.py; what it shares with convae (lazy torch,
refusing bad weights files) is checked in test_learned_codecs.py; these are its own checks.
"""

import csv

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


def test_figure_panels_are_the_papers_fig6_columns(codec, images):
    panels = codec.figure_panels(images[:3])
    noisy = panels["noisy input (sigma 10)"]
    assert noisy.shape == (3, 28, 28) and noisy.dtype == np.uint8 and (noisy != images[:3]).any()
    assert panels["code (8x8)"].shape == (3, 8, 8)


@pytest.mark.slow  # an epoch on 2000 digits, twice
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

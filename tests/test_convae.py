"""convae: exact bitstreams (across batch sizes and processes), the header, corrupt input,
the escape path, the weights file and reproducible training.

The conformance kit runs here on MNIST digits and in test_codecs.py on its sample images; what
convae shares with ddcae (lazy torch, refusing bad weights files) is checked in
test_learned_codecs.py.
"""

import csv
import functools
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest
from compbench_codecs.convae import LAMBDAS, ConvaeFactory, ConvaeTrainer, bitstream, weights_file
from compbench_codecs.convae.prior import CodeTables
from conftest import KIT_HANG_BOUND, LazyImages

import compbench
from compbench import CompbenchError
from compbench.testing import parametrize_codec_checks

FACTORY = ConvaeFactory()


@functools.cache
def first_digits() -> np.ndarray:
    """The first 300 MNIST test digits."""
    return np.stack(compbench.load_dataset("mnist", "test").read(range(300)))


@pytest.fixture(scope="module")
def images():
    return first_digits()


@pytest.fixture(scope="module")
def codec():
    return FACTORY.create(point=3, dataset="mnist", weights=None)


def psnr(x, y):
    mse = ((x.astype(float) - y) ** 2).reshape(len(x), -1).mean(axis=1)
    return 10 * np.log10(255**2 / np.maximum(mse, 1e-10))


@parametrize_codec_checks(FACTORY, images=LazyImages(lambda: first_digits()[:12]), time_limit=KIT_HANG_BOUND)
def test_conformance_on_mnist_digits(check):
    check()


def test_bitstream_round_trip_is_exact(codec, images):
    blobs = codec.encode_batch(images)
    assert blobs == codec.encode_batch(images), "encoding twice gave different bytes"
    # the entropy coding is lossless: the decoder gets back exactly the encoder's integers
    q = np.stack([bitstream.decode_payload(b[1:], codec.tables) for b in blobs])
    np.testing.assert_array_equal(q, codec.quantized_codes(images))
    decoded = np.stack(codec.decode_batch(blobs))
    np.testing.assert_array_equal(decoded, codec.reconstruct(q))
    assert decoded.shape == images.shape and decoded.dtype == np.uint8
    assert psnr(images, decoded).mean() > 25


def _fingerprint(codec, images, batch):
    """sha256 of the bytes and of the reconstructions, coded ``batch`` images at a time."""
    blobs = [b for i in range(0, len(images), batch) for b in codec.encode_batch(images[i : i + batch])]
    decoded = [d for i in range(0, len(blobs), batch) for d in codec.decode_batch(blobs[i : i + batch])]
    return (hashlib.sha256(b"".join(len(b).to_bytes(2, "big") + b for b in blobs)).hexdigest(),
            hashlib.sha256(np.stack(decoded).tobytes()).hexdigest())


@pytest.mark.parametrize("point", [0, len(LAMBDAS) - 1])
def test_same_bytes_and_pixels_for_any_batch_size(images, point):
    """On 64 digits (the property does not depend on how many): one batch, 64 of one, and
    batches of 7 ending on a batch of 1."""
    images = images[:64]
    codec = FACTORY.create(point=point, dataset="mnist", weights=None)
    reference = _fingerprint(codec, images, 256)
    assert _fingerprint(codec, images, 1) == reference
    assert _fingerprint(codec, images, 7) == reference


def test_same_bytes_and_pixels_in_another_process(codec, images):
    script = (
        "import sys, numpy as np, compbench, torch\n"
        "sys.path.insert(0, sys.argv[1])\n"
        "from test_convae import FACTORY, _fingerprint, first_digits\n"
        "torch.set_num_threads(1)\n"  # another thread count too
        "codec = FACTORY.create(point=3, dataset='mnist', weights=None)\n"
        "print(*_fingerprint(codec, first_digits(), 64))\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(__import__("pathlib").Path(__file__).parent)],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert tuple(result.stdout.split()) == _fingerprint(codec, images, 256)


def test_header_is_one_byte_naming_dataset_and_point(images):
    for dataset in ("mnist", "fashion-mnist"):
        for point in (0, len(LAMBDAS) - 1):
            codec = FACTORY.create(point=point, dataset=dataset, weights=None)
            data = codec.encode(images[0])
            assert codec.overhead_bytes((28, 28)) == 1
            assert bitstream.unpack_header(data) == (dataset, point)
            assert data[0] >> 5 == bitstream.VERSION


def test_a_bitstream_decodes_with_any_codec_setting(images):
    """Dataset and point travel in the header: any convae codec decodes the bytes the same."""
    fashion = FACTORY.create(point=5, dataset="fashion-mnist", weights=None)
    blobs = fashion.encode_batch(images[:10])
    other = FACTORY.create(point=0, dataset="mnist", weights=None)
    expected = np.stack(fashion.decode_batch(blobs))
    np.testing.assert_array_equal(np.stack(other.decode_batch(blobs)), expected)
    mixed = other.encode_batch(images[:3]) + blobs[:3]  # two headers in one batch
    decoded = other.decode_batch(mixed)
    np.testing.assert_array_equal(np.stack(decoded[3:]), expected[:3])
    np.testing.assert_array_equal(np.stack(decoded[:3]), np.stack(other.decode_batch(mixed[:3])))


def test_rate_and_quality_rise_with_the_point(images):
    bpp, quality = [], []
    for point in range(len(LAMBDAS)):
        codec = FACTORY.create(point=point, dataset="mnist", weights=None)
        blobs = codec.encode_batch(images)
        bpp.append(np.mean([8 * len(b) / 784 for b in blobs]))
        quality.append(psnr(images, np.stack(codec.decode_batch(blobs))).mean())
    assert np.all(np.diff(bpp) > 0) and np.all(np.diff(quality) > 0), (bpp, quality)


@pytest.mark.parametrize("data,match", [(b"", "empty"), (bytes([0x00]), "format version"),
                                        (bytes([0xE3, 1, 2]), "format version")])
def test_bad_headers_raise_a_clean_error(codec, data, match):
    with pytest.raises(bitstream.BitstreamError, match=match):
        codec.decode(data)


def test_a_point_beyond_the_weights_is_refused(codec, images):
    data = bytearray(codec.encode(images[0]))
    data[0] = (data[0] & 0xF0) | 15
    with pytest.raises(bitstream.BitstreamError, match="rate point 15"):
        codec.decode(bytes(data))


def test_garbage_payloads_decode_to_an_image_or_a_clean_error(codec, images):
    rng = np.random.default_rng(0)
    good = codec.encode(images[0])
    cases = [good[:1], good[:-1], good[:2], good + b"\xff" * 9]
    cases += [good[:1] + rng.integers(0, 256, int(n)).astype(np.uint8).tobytes() for n in rng.integers(0, 400, 60)]
    for data in cases:
        try:
            decoded = codec.decode(data)
        except bitstream.BitstreamError:
            continue
        assert decoded.shape == (28, 28) and decoded.dtype == np.uint8


def test_escape_path_codes_values_far_outside_the_tables(codec, images):
    tables = codec.tables
    q = codec.quantized_codes(images[:3])
    high = tables.low + tables.sizes - 1
    q[0, 0] = high[0] + 1  # just above the range
    q[0, 5] = high[5] + 123_456  # far above
    q[1, 7] = tables.low[7] - 1  # just below
    q[2, :] = -(2**31 - 1)  # every element escaped, as far as allowed
    blobs = codec.encode_codes(q)
    decoded = np.stack([bitstream.decode_payload(b[1:], tables) for b in blobs])
    np.testing.assert_array_equal(decoded, q)
    np.testing.assert_array_equal(np.stack(codec.decode_batch(blobs)), codec.reconstruct(q))
    with pytest.raises(ValueError, match="2\\*\\*31"):
        codec.encode_codes(np.full((1, tables.live.size), 2**31))


def test_range_coder_ending_is_exact_and_tight_on_random_tables():
    """The shortened ending decodes exactly for many different final intervals."""
    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(1, 80))
        sizes = rng.integers(1, 30, n)
        counts = np.concatenate([rng.integers(1, 2000, s + 1) for s in sizes]).astype(np.uint16)
        tables = CodeTables(np.zeros(n + 3, np.float32), np.arange(n), rng.integers(-9, 3, n), sizes, counts)
        q = tables.low + rng.integers(0, sizes)
        q[rng.random(n) < 0.05] += rng.integers(-10**6, 10**6)  # some escapes
        symbols, escaped = tables.symbols(q[None])
        payload = bitstream.encode_payload(symbols[0], tables.escape_values(q[None])[0][escaped[0]], tables)
        np.testing.assert_array_equal(bitstream.decode_payload(payload, tables), q)
        assert len(payload) <= tables.ideal_bits(q[None])[0] / 8 + 2, trial


def test_other_shapes_are_not_applicable():
    assert FACTORY.not_applicable((28, 28)) is None
    assert "28x28" in FACTORY.not_applicable((32, 32))
    assert "gray" in FACTORY.not_applicable((28, 28, 3))


def test_weights_of_the_wrong_dataset_are_refused(tmp_path):
    with pytest.raises(CompbenchError, match="dataset=fashion-mnist"):
        FACTORY.create(point=0, dataset="mnist",
                       weights=str(weights_file.default_path("fashion-mnist")))


@pytest.mark.slow  # ten models trained, twice
def test_training_is_reproducible_and_writes_its_record(tmp_path, monkeypatch):
    from compbench_codecs.convae import train

    # the progress lines and the log measure each model on 100 test images, not 1000: the
    # evaluation (half the training's time here) runs the same; what is tested does not count them
    monkeypatch.setattr(train, "EVAL_IMAGES", 100)
    lines = []
    settings = {"limit": 200, "epochs": 0.5, "finetune_epochs": 0.25, "seed": 3, "workers": 1}
    path = ConvaeTrainer().train(settings, tmp_path / "a", lines.append)
    assert path == tmp_path / "a" / "convae-mnist.safetensors"
    assert any("base-low" in line and "test" in line and "dB" in line for line in lines)
    rows = list(csv.DictReader((tmp_path / "a" / "training-log-mnist.csv").open()))
    assert {r["job"] for r in rows} == {"base-low", "base-high"} | {f"point-{k}" for k in range(len(LAMBDAS))}
    base = [r for r in rows if r["job"] == "base-low"]
    assert base[0]["epoch"] == "0" and 0.4 < float(base[-1]["epoch"]) < 0.6  # 4 steps of 7
    assert (tmp_path / "a" / "loss-curve-mnist.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    timing = json.loads((tmp_path / "a" / "training-time-mnist.json").read_text())
    assert timing["wall_seconds"] > 0 and timing["cpu_seconds"] > 0 and timing["workers"] == 1
    trained = weights_file.load(path)
    assert trained.config["trainer"]["seed"] == 3 and trained.config["train_images"] == 200
    assert [p.lmbda for p in trained.points] == list(LAMBDAS)
    # same seed, same bytes; the weights work as a codec
    again = ConvaeTrainer().train(settings, tmp_path / "b", lambda line: None)
    assert again.read_bytes() == path.read_bytes()
    codec = FACTORY.create(point=2, dataset="mnist", weights=str(path))
    assert np.stack(codec.decode_batch(codec.encode_batch(first_digits()[:5]))).shape == (5, 28, 28)


@pytest.mark.slow
def test_training_does_not_depend_on_the_number_of_workers(tmp_path, monkeypatch):
    from compbench_codecs import convae

    # three rate points, not eight: both stages still spread their jobs over two processes
    monkeypatch.setattr(convae, "LAMBDAS", convae.LAMBDAS[::3])
    settings = {"limit": 100, "epochs": 0.3, "finetune_epochs": 0.2, "seed": 1}
    one = ConvaeTrainer().train({**settings, "workers": 1}, tmp_path / "one", lambda line: None)
    two = ConvaeTrainer().train({**settings, "workers": 2}, tmp_path / "two", lambda line: None)
    assert weights_file.load(one).sha256 == weights_file.load(two).sha256


def test_shipped_weights_record_their_training():
    for dataset in ("mnist", "fashion-mnist"):
        shipped = weights_file.load(weights_file.default_path(dataset))
        assert shipped.dataset == dataset and [p.lmbda for p in shipped.points] == list(LAMBDAS)
        assert shipped.config["train_images"] == 60000
        assert shipped.config["trainer"]["dataset"] == dataset
        assert FACTORY.library_versions()[f"convae {dataset} weights sha256"] == shipped.sha256
    folder = weights_file.WEIGHTS_DIR
    assert ConvaeTrainer.default_out == folder
    names = {p.name for p in folder.iterdir()}
    assert {"convae-mnist.safetensors", "convae-fashion-mnist.safetensors"} <= names
    assert sum(p.stat().st_size for p in folder.iterdir()) < 8_000_000


def test_unavailable_without_weights(tmp_path, monkeypatch):
    from compbench_codecs import convae

    monkeypatch.setattr(weights_file, "WEIGHTS_DIR", tmp_path)
    convae.shipped_weights.cache_clear()
    try:
        status = ConvaeFactory().available()
    finally:
        convae.shipped_weights.cache_clear()
    assert not status.ok and "missing" in status.reason and status.fix.startswith("compbench train convae")

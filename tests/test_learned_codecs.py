"""What ddcae and convae share (codecs/_weights_file.py, _range_coding.py, _libraries.py,
_batch_codec.py): the plugin import stays light, bad weights files are refused in each codec's
own words, the digest of shipped files cannot drift, the range coder ends near the ideal rate,
corrupt escapes and bad images raise each codec's own error.

Codec-specific checks stay in test_ddcae.py and test_convae.py.
"""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from compbench_codecs import _range_coding, _weights_file, convae, ddcae
from compbench_codecs.convae import bitstream as convae_bitstream
from compbench_codecs.ddcae import bitstream as ddcae_bitstream

import compbench
from compbench import CodecFactory, CompbenchError


@dataclass(frozen=True)
class Learned:
    name: str
    factory: CodecFactory
    weights_file: object  # the codec's weights_file module
    shipped: Path
    kind: str  # as the refusals spell the codec
    settings: dict  # a mid-rate codec


LEARNED = [
    Learned("ddcae", ddcae.DdcaeFactory(), ddcae.weights_file, ddcae.weights_file.DEFAULT_WEIGHTS,
            "DDCAE", {"step": 0.5}),
    Learned("convae", convae.ConvaeFactory(), convae.weights_file,
            convae.weights_file.default_path("mnist"), "convae", {"point": 3, "dataset": "mnist"}),
]
IDS = [c.name for c in LEARNED]
BY_NAME = pytest.mark.parametrize("learned", LEARNED, ids=IDS)


@pytest.fixture(scope="module", params=LEARNED, ids=IDS)
def codec(request):
    return request.param.factory.create(**request.param.settings, weights=None)


@pytest.fixture(scope="module")
def images():
    return np.stack(compbench.load_dataset("mnist", "test").read(range(300)))


@BY_NAME
def test_importing_the_plugin_does_not_import_torch(learned):
    # a fresh interpreter: what `compbench list` does (load every plugin, ask each if available)
    script = (
        "import sys\n"
        "from compbench.contracts.registry import build_registry\n"
        "registry = build_registry()\n"
        f"factory, trainer = registry.codec({learned.name!r}), registry.trainer({learned.name!r})\n"
        "assert factory.available().ok, factory.available()\n"
        "factory.library_versions(); trainer.available()\n"
        f"import compbench_codecs.{learned.name}\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def _refusal(learned, path):
    with pytest.raises(CompbenchError) as caught:
        learned.weights_file.load(path)
    message = str(caught.value)
    assert "\n" not in message and str(path) in message
    assert f"compbench train {learned.name}" in message
    assert caught.value.problem.startswith(f"{learned.kind} weights file {path}: ")
    return message


@BY_NAME
@pytest.mark.parametrize("where", ["tensor data", "header"])
def test_tampered_weights_are_refused(tmp_path, learned, where):
    data = bytearray(learned.shipped.read_bytes())
    header_end = 8 + int.from_bytes(data[:8], "little")
    position = len(data) // 2 if where == "tensor data" else header_end - 40
    data[position : position + 4] = bytes(b ^ 0x5A for b in data[position : position + 4])
    tampered = tmp_path / learned.shipped.name
    tampered.write_bytes(bytes(data))
    _refusal(learned, tampered)
    with pytest.raises(CompbenchError, match=f"compbench train {learned.name}"):
        learned.factory.create(**learned.settings, weights=str(tampered))


@BY_NAME
def test_truncated_missing_and_foreign_weights_are_refused(tmp_path, learned):
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(learned.shipped.read_bytes()[:1000])
    assert "corrupt" in _refusal(learned, truncated)
    assert "missing" in _refusal(learned, tmp_path / "nothing-here.safetensors")
    foreign = tmp_path / "foreign.safetensors"
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(3, np.float32)}, str(foreign), metadata={"format": "something else"})
    assert f"not a {learned.kind} weights file" in _refusal(learned, foreign)


def test_code_entropy_is_the_ideal_rate_beside_the_real_one(codec, images):
    blobs = codec.encode_batch(images)
    ideal = codec.extra_metrics(images)["code_entropy"]
    assert ideal.shape == (len(images),) and (ideal > 0).all()
    payload = np.array([8 * (len(b) - codec.overhead_bytes((28, 28))) / 784 for b in blobs])
    # the range coder ends within a byte or so of the ideal length
    assert 0 <= payload.mean() - ideal.mean() < 2 * 8 / 784



def test_the_codes_of_the_batch_just_coded_are_reused_and_are_a_fresh_pass(codec, images, monkeypatch):
    """code_entropy takes the codes of the batch the codec has just coded; other images get
    their own pass of the network; both are the codes a fresh pass gives."""
    codec.encode_batch(list(images))
    batches = {"coded": images, "half": images[:150], "other": images[150:][::-1]}
    fresh = {name: codec.quantized_codes(batch) for name, batch in batches.items()}
    passes = []
    network = type(codec).quantized_codes
    monkeypatch.setattr(codec, "quantized_codes", lambda batch: passes.append(len(batch)) or network(codec, batch))
    for name, batch in batches.items():
        assert np.array_equal(codec.codes_of(batch), fresh[name]), name
    assert passes == [150, 150]  # none for the batch just coded


@BY_NAME
def test_code_entropy_is_declared(learned):
    assert [m.name for m in learned.factory.metrics] == ["code_entropy"]


@pytest.mark.parametrize("bad", [np.zeros((28, 28), np.float32), np.zeros((28, 28, 3), np.uint8),
                                 np.zeros((32, 32), np.uint8), np.zeros(784, np.uint8)])
def test_rejects_images_that_are_not_28x28_gray_uint8(codec, bad):
    with pytest.raises(ValueError, match="28x28 grayscale uint8"):
        codec.encode(bad)


def test_the_digest_is_the_one_shipped_files_carry():
    """Shipped weights store this digest: the same inputs must hash to the same value forever
    (byte order, dtype and shape spelling, sorted JSON all count)."""
    tensors = {"b": np.arange(6, dtype=">i4").reshape(2, 3), "a": np.array([0.5, -1.25], np.float16),
               "c": np.zeros(0, np.uint16)}
    info = {"format": "x/1", "config": {"seed": 3, "n": [1, 2]}, "sha256": "not hashed"}
    assert _weights_file.digest(tensors, info) == (
        "438a9a69d89d97d72af91a0873b12f1a15cca1caff89439700da37386b5a7d94")
    for learned in LEARNED:
        assert learned.weights_file.load(learned.shipped).sha256  # each file checks its own


def test_a_rewritten_file_is_byte_identical(tmp_path):
    """write() of what read() gives back reproduces the shipped bytes (sorted metadata JSON)."""
    tensors, info = _weights_file.read(ddcae.weights_file.DEFAULT_WEIGHTS,
                                       ddcae.weights_file.METADATA_KEY, "DDCAE", ValueError)
    del info["sha256"]
    copy = tmp_path / "copy.safetensors"
    _weights_file.write(copy, tensors, info, ddcae.weights_file.METADATA_KEY)
    assert copy.read_bytes() == ddcae.weights_file.DEFAULT_WEIGHTS.read_bytes()
    assert not copy.with_name("copy.safetensors.partial").exists()


class _AllZeroBits:
    """A decoder that reads nothing but zero bits: an escape code that never ends."""

    def decode(self, model, count=None):
        return 0 if count is None else np.zeros(count, np.int32)


@pytest.mark.parametrize("bitstream,error,message", [
    (ddcae_bitstream, ValueError, "corrupt DDCAE bitstream: escape value too long"),
    (convae_bitstream, convae_bitstream.BitstreamError, "corrupt convae bitstream: escape value too long"),
])
def test_a_runaway_escape_code_raises_the_codecs_own_error(bitstream, error, message):
    with pytest.raises(error) as caught:
        _range_coding.read_gamma(_AllZeroBits(), bitstream._corrupt)
    assert str(caught.value) == message


def test_gamma_codes_round_trip():
    values = np.array([0, 1, 2, 3, 7, 8, 1000, 2**32 - 1])
    encoder = _range_coding.encoder()
    payload = _range_coding.finish(encoder, values)
    decoder = _range_coding.decoder(payload)
    assert [_range_coding.read_gamma(decoder, ValueError) for _ in values] == list(values)

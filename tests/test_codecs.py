"""Codec-specific behaviour of the built-in codecs (the conformance kit runs on every one of
them in test_kit.py)."""

import numpy as np
import pytest

from compbench.contracts.registry import build_registry
from compbench.run.spec import make_spec

REGISTRY = build_registry()


def codec(name, **given):
    factory = REGISTRY.codec(name)
    return factory.create(**make_spec(factory, given).kwargs)


def psnr(x, y):
    mse = np.mean((x.astype(float) - y) ** 2)
    return np.inf if mse == 0 else 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize("name", sorted(REGISTRY.codecs))
def test_round_trip_on_mnist_is_close(name, digits):
    """The bytes really decode back to the image (not to zeros or to the input passed through)."""
    c = codec(name)
    for image in digits:
        decoded = c.decode(c.encode(image))
        assert psnr(image, decoded) > 15


def test_jpeg_quality_trades_bytes_for_fidelity(digits):
    low, high = codec("jpeg", quality=10), codec("jpeg", quality=95)
    image = digits[0]
    assert len(low.encode(image)) < len(high.encode(image))
    assert psnr(image, low.decode(low.encode(image))) < psnr(image, high.decode(high.encode(image)))


def test_jpeg_overhead_is_the_header(digits):
    c = codec("jpeg", quality=75)
    data = c.encode(digits[0])
    overhead = c.overhead_bytes(digits[0].shape)
    # overhead = everything up to the end of the SOS segment, plus the 2-byte EOI
    sos = data.index(b"\xff\xda")
    assert overhead == sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big") + 2
    assert data.endswith(b"\xff\xd9")
    assert 300 < overhead < len(data)


@pytest.mark.parametrize("given", [{"psnr": 25.0}, {"psnr": 40.0}])
def test_jpeg2000_psnr_target_is_met(digits, given):
    c = codec("jpeg2000", **given)
    reached = [psnr(image, c.decode(c.encode(image))) for image in digits]
    assert np.mean(reached) >= given["psnr"] - 1.5


def test_jpeg2000_ratio_mode_sets_the_rate(digits):
    loose, tight = codec("jpeg2000", ratio=4), codec("jpeg2000", ratio=40)
    assert sum(map(len, tight.encode_batch(list(digits)))) < sum(map(len, loose.encode_batch(list(digits))))


def test_jpeg2000_codestream_is_raw_j2k(digits):
    data = codec("jpeg2000").encode(digits[0])
    assert data[:4] == b"\xff\x4f\xff\x51"  # SOC then SIZ: no JP2 boxes around it
    assert data.endswith(b"\xff\xd9")


def test_jpeg2000_imagecodecs_backend_reads_the_same_format(digits):
    via_imagecodecs = codec("jpeg2000", backend="imagecodecs")
    via_glymur = codec("jpeg2000")
    data = via_imagecodecs.encode(digits[3])
    np.testing.assert_array_equal(via_glymur.decode(data), via_imagecodecs.decode(data))


def test_jpeg2000_numres_is_an_upper_bound(digits):
    # a 28x28 image holds 3 resolutions: asking for more codes the same 3, not an error
    assert codec("jpeg2000", numres=5).encode(digits[0]) == codec("jpeg2000", numres=3).encode(digits[0])
    assert codec("jpeg2000", numres=2).encode(digits[0]) != codec("jpeg2000", numres=3).encode(digits[0])

"""Codec-specific behaviour of the built-in codecs (the conformance kit runs on every one of
them in test_kit.py)."""

import re

import numpy as np
import pytest
from conftest import builtin_registry

from compbench.run.spec import make_spec

REGISTRY = builtin_registry()


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


def jpeg_header(data: bytes) -> list[tuple[int, bytes]]:
    """The marker segments from SOI through SOS, walked by the length each declares (ITU T.81
    B.1.1.4: a marker FFxx, then a 2-byte length counting itself), not by searching for bytes."""
    assert data[:2] == b"\xff\xd8", "no SOI"
    segments, position = [(0xD8, data[:2])], 2
    while segments[-1][0] != 0xDA:
        assert data[position] == 0xFF, f"no marker at byte {position}"
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        segments.append((data[position + 1], data[position : position + 2 + length]))
        position += 2 + length
    return segments


@pytest.mark.parametrize("quality", [1, 75, 100])
@pytest.mark.parametrize("shape", [(28, 28), (40, 56, 3), (1, 1), (7, 300, 3), (1000, 1500), (999, 1501, 3)])
@pytest.mark.parametrize("subsampling", ["420", "444"])
def test_jpeg_overhead_is_the_header(digits, quality, shape, subsampling):
    """overhead_bytes = SOI, the tables, SOF and SOS (walked segment by segment) + the EOI, at
    every size (it is computed once per channel count, from a small blank image)."""
    image = digits[0] if shape == (28, 28) else np.resize(digits[:9], shape).astype(np.uint8)
    c = codec("jpeg", quality=quality, subsampling=subsampling)
    data = c.encode(image)
    header = jpeg_header(data)
    size = sum(len(segment) for _, segment in header)
    assert c.overhead_bytes(shape) == size + 2
    assert data.endswith(b"\xff\xd9")
    # what lies between is entropy-coded data: no marker but stuffed bytes (FF00) and restarts
    assert re.findall(rb"\xff[^\x00\xd0-\xd7]", data[size:-2]) == []
    markers = [marker for marker, _ in header]
    assert markers[:2] == [0xD8, 0xE0] and 0xC0 in markers and markers[-1] == 0xDA  # baseline, JFIF


def test_jpeg_overhead_of_a_gray_image_is_the_standard_header():
    """Known bytes: SOI 2 + JFIF APP0 18 + one DQT 69 + SOF0 of one component 13 + the standard
    luminance DC and AC Huffman tables (T.81 Annex K.3) 33 + 183 + SOS 10 + EOI 2 = 330."""
    c = codec("jpeg", quality=75)
    assert c.overhead_bytes((28, 28)) == 2 + 18 + 69 + 13 + 33 + 183 + 10 + 2
    sof = dict(jpeg_header(c.encode(np.zeros((28, 28), np.uint8))))[0xC0]
    assert sof == bytes.fromhex("ffc0 000b 08 001c 001c 01 01 11 00")  # 8-bit, 28x28, 1 component


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

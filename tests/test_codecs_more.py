"""Colour for every codec that takes it; the lossless codecs (PNG, JPEG-LS, QOI, WebP and JPEG XL
lossless, zstd on raw pixels, the ``none`` pass-through) are exact; ladders span the rate range."""

import numpy as np
import pytest
from conftest import builtin_registry

from compbench.run.spec import make_spec

REGISTRY = builtin_registry()
NEW = ("png", "jpegls", "qoi", "zstd", "none", "webp-lossless", "jpegxl-lossless")
COLOUR = sorted(name for name, r in REGISTRY.codecs.items() if 3 in r.obj.channels)
LOSSLESS = sorted(name for name, r in REGISTRY.codecs.items() if r.obj.lossless)


def codec(name, **given):
    factory = REGISTRY.codec(name)
    return factory.create(**make_spec(factory, given).kwargs)


def rgb_photo(shape=(40, 56, 3), seed=1):
    """Smooth colour structure plus noise, with distinct channels (unlike sample_images' RGB)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    planes = [128 + 100 * np.sin(xx / 7 + c) * np.cos(yy / 5 - c) for c in range(3)]
    image = np.stack(planes, axis=2) + rng.normal(0, 8, shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def test_the_new_codecs_are_registered_and_declare_colour():
    assert set(NEW) <= set(LOSSLESS)
    assert set(NEW) | {"jpeg", "webp", "avif", "jpegxl"} <= set(COLOUR)
    assert "ddcae" not in COLOUR


# the conformance kit runs on every codec at every declared shape, RGB included: tests/test_kit.py


@pytest.mark.parametrize("name", LOSSLESS)
@pytest.mark.parametrize("shape", [(1, 1), (7, 13), (64, 48), (1, 1, 3), (7, 13, 3), (64, 48, 3)])
def test_lossless_codecs_are_exact(name, shape):
    image = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    smooth = rgb_photo((*shape[:2], 3))[..., : shape[2] if len(shape) == 3 else 1].reshape(shape)
    c = codec(name)
    for x in (image, smooth):
        decoded = c.decode(c.encode(x))
        assert decoded.shape == x.shape and decoded.dtype == np.uint8
        np.testing.assert_array_equal(decoded, x)


@pytest.mark.parametrize("name", LOSSLESS)
def test_lossless_codecs_are_exact_on_mnist(name, digits):
    c = codec(name)
    for image in digits:
        np.testing.assert_array_equal(c.decode(c.encode(image)), image)


@pytest.mark.parametrize("name", sorted(set(COLOUR) - set(LOSSLESS)))
def test_lossy_colour_round_trip_keeps_the_colours(name):
    """RGB in, RGB out, close to the input channel by channel (not gray, not swapped planes)."""
    image = rgb_photo()
    decoded = codec(name).decode(codec(name).encode(image))
    assert decoded.shape == image.shape
    for channel in range(3):
        error = decoded[..., channel].astype(float) - image[..., channel]
        assert np.sqrt(np.mean(error**2)) < 20, f"channel {channel} is far from the input"


def test_none_is_the_pixels_behind_a_small_header():
    gray, photo = np.zeros((28, 28), np.uint8), np.zeros((512, 300, 3), np.uint8)
    c = codec("none")
    assert len(c.encode(gray)) == 28 * 28 + 3 == 28 * 28 + c.overhead_bytes(gray.shape)
    assert len(c.encode(photo)) == photo.size + 5 == photo.size + c.overhead_bytes(photo.shape)


def test_zstd_beats_none_and_its_level_trades_size(digits):
    images = list(digits)

    def size(name, **given):
        return sum(map(len, codec(name, **given).encode_batch(images)))

    assert size("zstd", level=19) < size("zstd", level=1) < size("none") / 2


@pytest.mark.parametrize("data", [b"", b"\x9c", b"\x1c\x1c"])
def test_raw_pixel_header_rejects_truncated_bytes(data):
    with pytest.raises(ValueError):
        codec("none").decode(data)


def test_raw_pixel_header_round_trips_large_sides():
    image = np.arange(3 * 20000, dtype=np.uint8).reshape(1, 20000, 3)
    c = codec("none")
    np.testing.assert_array_equal(c.decode(c.encode(image)), image)
    assert c.overhead_bytes(image.shape) == 1 + 3 + 1  # 20000 takes three 7-bit groups


@pytest.mark.parametrize("name", ["qoi", "webp-lossless"])
def test_gray_as_rgb_flag_is_counted(name, digits):
    """Gray goes in as RGB behind one counted flag byte and comes back as one plane."""
    c = codec(name)
    data = c.encode(digits[0])
    assert data[:1] == b"\x01" and c.overhead_bytes(digits[0].shape) == 1
    assert c.decode(data).shape == (28, 28)


def test_lossless_codecs_are_points_not_curves():
    """A lossless codec has no rate to sweep: no ladder, no rate parameter."""
    for name in LOSSLESS:
        assert not REGISTRY.codec(name).ladder and not REGISTRY.codec(name).rate_params


def test_jpeg_subsampling_changes_colour_only(digits):
    full, half = codec("jpeg", quality=90, subsampling="444"), codec("jpeg", quality=90)
    assert full.encode(digits[0]) == half.encode(digits[0])  # gray has no chroma to subsample
    photo = rgb_photo((64, 64, 3))
    assert len(full.encode(photo)) > len(half.encode(photo))
    assert full.overhead_bytes(photo.shape) >= half.overhead_bytes(photo.shape)


def test_jpeg_ladder_keeps_the_subsampling_given():
    """One subsampling along the whole curve: 4:2:0 by default, 4:4:4 when asked for."""
    from compbench.run.spec import parse_codec_specs

    ladder = REGISTRY.codec("jpeg").ladder
    assert all(set(point) == {"quality"} for point in ladder)
    assert [p["quality"] for p in ladder] == sorted(p["quality"] for p in ladder) and ladder[-1]["quality"] == 100
    for given, expected in (("jpeg", "420"), ("jpeg:subsampling=444", "444"), ("jpeg:subsampling=422", "422")):
        specs = parse_codec_specs(given, REGISTRY, sweep=True)
        assert len(specs) == len(ladder)
        assert {spec.kwargs["subsampling"] for spec in specs} == {expected}
    assert parse_codec_specs("jpeg:subsampling=444", REGISTRY, sweep=True)[-1].label == "jpeg:quality=100,subsampling=444"
    assert parse_codec_specs("jpeg", REGISTRY, sweep=True)[-1].label == "jpeg:quality=100"


@pytest.mark.parametrize("name", ["jpeg", "webp", "avif", "jpegxl"])
def test_ladder_spans_the_rate_range(name, digits):
    """The ladder's first point is much cheaper than its last, and rate rises along it."""
    factory = REGISTRY.codec(name)
    assert 8 <= len(factory.ladder) <= 12
    images = list(digits[:6])
    sizes = [sum(map(len, codec(name, **point).encode_batch(images))) for point in factory.ladder]
    assert sizes[-1] > 1.3 * sizes[0]
    assert sizes == sorted(sizes) or np.corrcoef(sizes, range(len(sizes)))[0, 1] > 0.9

"""Every built-in codec declares the largest images its library codes (``not_applicable``), so a
larger one is reported as not applicable with the limit, never recorded as a codec failure. The
limits were measured with imagecodecs 2026.3.6: at each boundary the largest image that codes
and the smallest that the library refuses. Narrow images (1 or 16 px on one side) keep the round
trips small; boundaries only an image of a gigabyte or more reaches are checked as declarations
(the figures measured once are in the comments)."""

import numpy as np
import pytest
from conftest import builtin_registry

from compbench.run.spec import make_spec

REGISTRY = builtin_registry()


def codec(name, **given):
    factory = REGISTRY.codec(name)
    return factory.create(**make_spec(factory, given).kwargs)


def refused(name, shape):
    return REGISTRY.codec(name).not_applicable(shape)


def pattern(shape):
    """A ramp, so a decoder returning zeros or the wrong shape cannot pass."""
    image = (np.indices(shape[:2]).sum(axis=0) % 251).astype(np.uint8)
    return np.ascontiguousarray(np.repeat(image[..., None], shape[2], axis=2)) if len(shape) == 3 else image


def round_trips(name, shape, **given):
    c, image = codec(name, **given), pattern(shape)
    decoded = c.decode(c.encode(image))
    assert decoded.shape == image.shape and decoded.dtype == np.uint8
    error = np.abs(decoded.astype(int) - image)
    assert error.mean() < 8, f"{name} on {shape}: mean error {error.mean():.1f}"


#: codec, the largest image it codes and the smallest it refuses (both measured), extra settings
SIDE_LIMITS = [
    # imagecodecs checks side < 16383 (libwebp's WEBP_MAX_DIMENSION), so 16383 itself is refused:
    # "invalid data shape, strides, or dtype"
    ("webp", (16, 16382), (16, 16383), {}),
    ("webp", (16382, 16, 3), (16383, 16, 3), {}),
    ("webp-lossless", (16, 16382, 3), (16, 16383, 3), {}),
    ("webp-lossless", (16382, 16), (16383, 16), {}),
    # "Maximum supported image dimension is 65535 pixels"
    ("jpeg", (16, 65535), (16, 65536), {}),
    ("jpeg", (65535, 16, 3), (65536, 16, 3), {}),
    # encoded up to 65536, but libavif's decoder refuses a side past 32768 ("dimensions are too
    # large"); speed=10 keeps the round trip under a second
    ("avif", (1, 32768), (1, 32769), {"speed": 10}),
    ("avif", (32768, 1), (32769, 1), {"speed": 10}),
    # libpng: "Invalid IHDR data" (width/height exceeds user limit)
    ("png", (1, 1_000_000), (1, 1_000_001), {}),
    ("png", (1_000_000, 1), (1_000_001, 1), {}),
]


@pytest.mark.parametrize("name,largest,smallest_refused,given", SIDE_LIMITS)
def test_side_limits_are_declared_and_exact(name, largest, smallest_refused, given):
    assert refused(name, largest) is None
    round_trips(name, largest, **given)
    side = max(smallest_refused[:2])
    size = "x".join(map(str, smallest_refused))
    assert refused(name, smallest_refused) == f"{name} codes images up to {side - 1} px per side; this one is {size}"
    with pytest.raises((ValueError, RuntimeError)):  # imagecodecs' shape check, or the library's error
        c = codec(name, **given)
        c.decode(c.encode(pattern(smallest_refused)))


def test_the_issue_example_is_one_line():
    assert refused("webp", (20000, 16)) == "webp codes images up to 16382 px per side; this one is 20000x16"


def test_jpegxl_side_limit_is_the_format_level_10():
    """2**30 per side; 2**30 + 1 is refused by JxlEncoderSetBasicInfo (measured: the test would
    need a 1 GiB image). Past level 5's 2**18, libjxl moves to level 10 by itself."""
    for name in ("jpegxl", "jpegxl-lossless"):
        assert refused(name, (1, 2**30)) is None and refused(name, (2**30, 1, 3)) is None
        assert "up to 1073741824 px per side" in refused(name, (1, 2**30 + 1))
    round_trips("jpegxl-lossless", (1, 2**18 + 1))


def test_avif_pixel_limit_is_libavifs_decoder_default():
    """16384 x 16384 pixels (libavif's imageSizeLimit; not run: a gigabyte of RGB)."""
    assert refused("avif", (16384, 16384)) is None and refused("avif", (8192, 32768, 3)) is None
    assert refused("avif", (16384, 16385)) == ("avif codes images of up to 268435456 pixels; "
                                                "this one is 16384x16385 (268451840)")


@pytest.mark.parametrize("width", [1, 3, 7, 640, 20000])
def test_qoi_declares_qoi_h_own_pixel_test(width):
    """qoi.h refuses height >= 400000000 // width (about 400 million pixels, not run: 1.2 GB)."""
    largest = 400_000_000 // width - 1
    assert refused("qoi", (largest, width)) is None
    assert refused("qoi", (largest + 1, width, 3)).startswith("qoi codes images of fewer than 400000000 pixels")


def test_jpeg2000_declares_this_codecs_own_sample_cap():
    """16777216 samples (H x W x channels): at the cap OpenJPEG took 13-23 s and 1.5 GB (not run
    here); one sample more is declared, and refused by the codec itself before OpenJPEG."""
    assert refused("jpeg2000", (1, 16_777_216)) is None and refused("jpeg2000", (1, 5_592_405, 3)) is None
    assert refused("jpeg2000", (1, 5_592_406, 3)) == ("jpeg2000 codes images of up to 16777216 samples "
                                                      "(H x W x channels); this one is 1x5592406x3 (16777218)")
    over = np.zeros((1, 16_777_217), np.uint8)  # 16 MB
    with pytest.raises(ValueError, match=r"^jpeg2000 codes images of up to 16777216 samples"):
        codec("jpeg2000").encode(over)
    round_trips("jpeg2000", (16, 65536))


@pytest.mark.parametrize("name", ["jpegls", "zstd", "none", "qoi"])
def test_codecs_without_a_side_limit_take_what_the_others_refuse(name):
    """No side limit short of memory (JPEG-LS measured to 16777217 px per side; QOI's limit is
    on pixels)."""
    for shape in ((1, 1_000_001), (1_000_001, 1, 3), (19_999, 20_000, 3)):
        assert refused(name, shape) is None
    round_trips(name, (1, 1_000_001))
    round_trips(name, (1_000_001, 1, 3))


@pytest.mark.parametrize("name", ["ddcae", "convae"])
def test_learned_codecs_take_28x28_gray_only(name):
    assert refused(name, (28, 28)) is None
    for shape in ((28, 29), (29, 28), (27, 28), (16, 16382)):
        assert refused(name, shape) == f"{name} takes 28x28 images only, not {shape[0]}x{shape[1]}"
    assert "gray" in refused(name, (28, 28, 3))


def test_every_builtin_codec_is_covered():
    covered = {row[0] for row in SIDE_LIMITS} | {"jpegxl", "jpegxl-lossless", "avif", "qoi", "jpeg2000",
                                                 "jpegls", "zstd", "none", "ddcae", "convae"}
    builtin = {name for name, r in REGISTRY.codecs.items() if r.obj.__module__.startswith("compbench_codecs")}
    assert builtin <= covered, sorted(builtin - covered)


@pytest.mark.slow  # a whole run: about 6 s
def test_an_image_past_a_limit_is_not_applicable_in_a_run_not_a_failure(tmp_path):
    from PIL import Image

    from compbench import api

    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(pattern((16, 16383))).save(folder / "wide.png")
    Image.fromarray(pattern((16, 40))).save(folder / "small.png")
    result = api.run("webp", dataset=f"folder:path={folder}", out=tmp_path / "run", jobs=1, figures=False)
    refusal = result.manifest["not_applicable"]["webp"]
    assert refusal["images"] == 1 and refusal["reasons"] == ["webp codes images up to 16382 px per side; "
                                                             "this one is 16x16383"]
    assert len(result.records) == 1 and (result.records["error"] == "").all()

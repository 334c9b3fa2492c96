"""JPEG 2000 on memory streams: the same bytes as glymur's file writer, colour, the ladder,
the imagecodecs layout, and bad bytes."""

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from compbench_codecs import jpeg2000

from compbench.contracts.errors import CompbenchError
from compbench.contracts.registry import build_registry
from compbench.run.spec import make_spec

FACTORY = build_registry().codec("jpeg2000")
COM = b"\xff\x64"


def codec(**given):
    return FACTORY.create(**make_spec(FACTORY, given).kwargs)


def psnr(x, y):
    return 10 * np.log10(255**2 / np.mean((x.astype(float) - y) ** 2))


def glymur_file_round_trip(path, image, **rate):
    """What the codec did before memory streams: glymur writes a file, reads it back."""
    import glymur

    glymur.Jp2k(str(path), data=image, irreversible=True, **rate)
    return path.read_bytes(), glymur.Jp2k(str(path))[:]


def without_comment(data: bytes) -> bytes:
    start = data.index(COM)
    return data[:start] + data[start + 2 + int.from_bytes(data[start + 2 : start + 4], "big"):]


@pytest.fixture(scope="module")
def photo():
    """A 64x64 RGB photograph (scikit-image's astronaut, every 8th pixel)."""
    from skimage.data import astronaut

    return np.ascontiguousarray(astronaut()[::8, ::8])


# -- the same codestream as glymur's file path ------------------------------------------------

def test_default_codestreams_are_glymurs_file_bytes(mnist_test, tmp_path):
    """The committed baseline's setting: 300 MNIST digits, byte for byte and pixel for pixel."""
    c = codec()
    for image in mnist_test.images[:300]:
        data, pixels = glymur_file_round_trip(tmp_path / "old.j2k", image, numres=3, psnr=[30])
        assert c.encode(image) == data
        np.testing.assert_array_equal(c.decode(data), pixels)


@pytest.mark.parametrize("given,rate", [
    ({"psnr": 18, "numres": 2}, {"numres": 2, "psnr": [18]}),
    ({"psnr": 45}, {"numres": 3, "psnr": [45]}),
    ({"ratio": 12}, {"numres": 3, "cratios": [12]}),
])
def test_other_settings_match_glymur_too(mnist_test, tmp_path, given, rate):
    c = codec(**given)
    for image in mnist_test.images[300:340]:
        data, pixels = glymur_file_round_trip(tmp_path / "old.j2k", image, **rate)
        assert c.encode(image) == data
        np.testing.assert_array_equal(c.decode(data), pixels)


def test_rgb_codestream_matches_glymur(photo, tmp_path):
    data, pixels = glymur_file_round_trip(tmp_path / "old.j2k", photo, numres=3, psnr=[30])
    assert codec().encode(photo) == data
    np.testing.assert_array_equal(codec().decode(data), pixels)


# -- colour -----------------------------------------------------------------------------------

def test_factory_takes_gray_and_rgb():
    assert FACTORY.channels == (1, 3)
    assert FACTORY.not_applicable((28, 28)) is None
    assert FACTORY.not_applicable((64, 48, 3)) is None
    assert "4-channel" in FACTORY.not_applicable((28, 28, 4))
    assert "samples" in FACTORY.not_applicable((8192, 8192, 3))


@pytest.mark.parametrize("backend", ["glymur", "imagecodecs"])
def test_colour_round_trip(photo, backend):
    c = codec(backend=backend)
    data = c.encode(photo)
    decoded = c.decode(data)
    assert decoded.shape == photo.shape and decoded.dtype == np.uint8
    assert 29 < psnr(photo, decoded) < 40  # psnr=30 is a target, not an exact value
    assert len(data) < photo.nbytes / 4
    # the colours survive (the MCT is undone): each channel is close to its own original
    for k in range(3):
        assert psnr(photo[..., k], decoded[..., k]) > 25


def test_colour_codes_more_than_one_plane(photo):
    gray = np.ascontiguousarray(photo[..., 1])
    c = codec()
    assert c.decode(c.encode(gray)).shape == gray.shape
    assert len(c.encode(photo)) > len(c.encode(gray))


# -- the ladder --------------------------------------------------------------------------------

def test_ladder_runs_from_the_lowest_useful_target_to_near_lossless(mnist_test):
    images = mnist_test.images[:100]
    floor = codec(psnr=1).encode_batch(list(images))  # below ~14 dB targets give these bytes
    everything = codec(psnr=100)  # every coding pass: the most the 9/7 wavelet reaches
    top_psnr = np.mean([psnr(i, everything.decode(everything.encode(i))) for i in images])
    assert 10 <= len(FACTORY.ladder) <= 12
    sizes, qualities = [], []
    for point in FACTORY.ladder:
        c = codec(**point)
        blobs = c.encode_batch(list(images))
        decoded = c.decode_batch(blobs)
        assert all(d.shape == (28, 28) and d.dtype == np.uint8 for d in decoded)
        sizes.append(np.mean([len(b) for b in blobs]))
        qualities.append(np.mean([psnr(i, d) for i, d in zip(images, decoded)]))
        if point is FACTORY.ladder[0]:
            assert sum(a != b for a, b in zip(blobs, floor)) >= len(images) / 2
    assert np.all(np.diff(sizes) > 0) and np.all(np.diff(qualities) > 0)
    assert qualities[0] < 16  # down where the learned codecs are
    assert qualities[-1] > top_psnr - 0.5 and qualities[-1] > 55


# -- the imagecodecs layout ---------------------------------------------------------------------

def test_imagecodecs_caps_resolutions_at_log2_side_minus_two():
    assert jpeg2000.imagecodecs_numres(3, (28, 28)) == 2
    assert jpeg2000.imagecodecs_numres(3, (64, 64, 3)) == 3
    assert jpeg2000.imagecodecs_numres(6, (32, 32)) == 3


@pytest.mark.parametrize("pick", ["digits", "photo"])
def test_layout_imagecodecs_writes_what_imagecodecs_writes(mnist_test, photo, pick):
    images = mnist_test.images[:200] if pick == "digits" else [photo]
    ours, theirs = codec(layout="imagecodecs"), codec(backend="imagecodecs")
    for image in images:
        a, b = ours.encode(image), theirs.encode(image)
        assert a != b  # the COM marker names each library's OpenJPEG version...
        assert without_comment(a) == without_comment(b)  # ...and nothing else differs
        np.testing.assert_array_equal(ours.decode(b), theirs.decode(b))


def test_layouts_differ_as_documented(mnist_test):
    image = mnist_test.images[0]
    default, matched = codec().encode(image), codec(layout="imagecodecs").encode(image)
    assert default != matched
    assert codec().decode(matched).shape == image.shape  # each backend reads either layout


def test_imagecodecs_backend_cannot_take_the_openjpeg_layout():
    with pytest.raises(CompbenchError, match="backend=imagecodecs"):
        make_spec(FACTORY, {"backend": "imagecodecs", "layout": "openjpeg"})


# -- bad bytes ------------------------------------------------------------------------------------

FUZZ = textwrap.dedent("""
    import json, sys, time
    import numpy as np
    from compbench.contracts.registry import build_registry
    from compbench.run.spec import make_spec
    from compbench_codecs import jpeg2000

    factory = build_registry().codec("jpeg2000")
    codecs = [factory.create(**make_spec(factory, given).kwargs)
              for given in ({}, {"backend": "imagecodecs"})]
    images = build_registry().dataset("mnist").load("test").images[:20]
    rgb = np.ascontiguousarray(np.stack([images[0], images[1], images[2]], axis=2))
    blobs = [codecs[0].encode(i) for i in images] + [codecs[0].encode(rgb), codecs[1].encode(rgb)]
    rng = np.random.default_rng(int(sys.argv[1]))

    def mutate(data):
        data, kind = bytearray(data), rng.integers(5)
        if kind == 0:
            return rng.integers(0, 256, rng.integers(0, 400), dtype=np.uint8).tobytes()
        if kind == 1:
            return bytes(data[: rng.integers(0, len(data))])
        if kind == 2:  # a few flipped bits anywhere
            for _ in range(rng.integers(1, 6)):
                data[rng.integers(len(data))] ^= 1 << rng.integers(8)
            return bytes(data)
        if kind == 3:  # one flipped bit in the main header
            data[rng.integers(4, 120)] ^= 1 << rng.integers(8)
            return bytes(data)
        start = rng.integers(len(data))  # a run of random bytes
        end = min(len(data), start + rng.integers(1, 40))
        data[start:end] = rng.integers(0, 256, end - start, dtype=np.uint8).tobytes()
        return bytes(data)

    slowest, outcomes = 0.0, {}
    for _ in range(int(sys.argv[2])):
        data = mutate(blobs[rng.integers(len(blobs))])
        for c in codecs:
            start = time.perf_counter()
            try:
                c.decode(data)
                outcome = "decoded"
            except Exception as exc:
                outcome = type(exc).__name__
            slowest = max(slowest, time.perf_counter() - start)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(json.dumps({"slowest": slowest, "outcomes": outcomes,
                      "buffers_left": len(jpeg2000._BUFFERS)}))
""")


def test_random_truncated_and_flipped_bytes_raise_cleanly_and_fast():
    """300 mutations, each decoded by both backends, in a child process: a crash or a hang would
    take the child down (and fail here), not the test run."""
    child = subprocess.run([sys.executable, "-c", FUZZ, "12", "300"], capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert set(report["outcomes"]) <= {"decoded", "ValueError"}, report
    assert report["outcomes"]["ValueError"] > 200  # most mutations are caught...
    assert report["slowest"] < 1.0, report  # ...and none takes long
    assert report["buffers_left"] == 0


@pytest.mark.parametrize("data,reason", [
    (b"", "not a J2K codestream"),
    (b"\xff\xd8\xff\xe0" + bytes(60), "not a J2K codestream"),
])
def test_non_codestreams_are_refused_before_openjpeg(data, reason):
    with pytest.raises(ValueError, match=reason):
        codec().decode(data)


def test_openjpeg_reasons_reach_the_exception(mnist_test):
    data = codec().encode(mnist_test.images[0])
    with pytest.raises(ValueError, match=r"jpeg2000: .*failed: \w+"):
        codec().decode(data[: len(data) // 2])


def test_huge_declared_sizes_are_refused(mnist_test):
    data = bytearray(codec().encode(mnist_test.images[0]))
    data[8:12] = (1 << 30).to_bytes(4, "big")  # Xsiz: a billion columns
    with pytest.raises(ValueError, match="samples"):
        codec().decode(bytes(data))

"""JPEG 2000 on memory streams: the same bytes as glymur's file writer, colour, the ladder,
the imagecodecs layout, and bad bytes."""

import json
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from compbench_codecs import _openjpeg, jpeg2000
from conftest import builtin_registry

from compbench.contracts.errors import CompbenchError
from compbench.run.spec import make_spec

FACTORY = builtin_registry().codec("jpeg2000")
COM = b"\xff\x64"


def codec(**given):
    return FACTORY.create(**make_spec(FACTORY, given).kwargs)


def psnr(x, y):
    return 10 * np.log10(255**2 / np.mean((x.astype(float) - y) ** 2))


GLYMUR_FILE_PATH = textwrap.dedent("""
    import pickle, sys
    import glymur
    from pathlib import Path

    jobs, folder = pickle.load(sys.stdin.buffer)
    path, out = Path(folder) / "old.j2k", []
    for images, rate in jobs:
        out.append([])
        for image in images:
            glymur.Jp2k(str(path), data=image, irreversible=True, **rate)
            out[-1].append((path.read_bytes(), glymur.Jp2k(str(path))[:]))
    pickle.dump((glymur.version.openjpeg_version, out), sys.stdout.buffer)
""")


def glymur_file_round_trips(folder, jobs):
    """What the codec did before memory streams: glymur writes a file and reads it back, for
    each image, loading the libopenjp2 the codec drives (named in a glymurrc, glymur's own
    configuration) in a child process. ``jobs``: [(images, glymur's rate arguments)]; returns
    [(codestream, pixels) per image] per job."""
    library = _openjpeg.chosen_library()
    (folder / "glymur").mkdir(exist_ok=True)
    (folder / "glymur" / "glymurrc").write_text(f"[library]\nopenjp2: {library.path}\n")
    env = {**os.environ, "XDG_CONFIG_HOME": str(folder)}
    child = subprocess.run([sys.executable, "-c", GLYMUR_FILE_PATH], env=env, cwd=folder,
                           input=pickle.dumps(([(list(images), rate) for images, rate in jobs], str(folder))),
                           capture_output=True, timeout=300)
    assert child.returncode == 0, child.stderr.decode()[-2000:]
    version, pairs = pickle.loads(child.stdout)
    assert version == library.version  # glymur loaded the same library
    return pairs


def without_comment(data: bytes) -> bytes:
    start = data.index(COM)
    return data[:start] + data[start + 2 + int.from_bytes(data[start + 2 : start + 4], "big"):]


@pytest.fixture(scope="module")
def photo():
    """A 64x64 RGB photograph (scikit-image's astronaut, every 8th pixel)."""
    from skimage.data import astronaut

    return np.ascontiguousarray(astronaut()[::8, ::8])


# -- the same codestream as glymur's file path ------------------------------------------------

#: (codec settings, glymur's rate arguments) checked on 40 more digits
OTHER_SETTINGS = [
    ({"psnr": 18, "numres": 2}, {"numres": 2, "psnr": [18]}),
    ({"psnr": 45}, {"numres": 3, "psnr": [45]}),
    ({"ratio": 12}, {"numres": 3, "cratios": [12]}),
]


@pytest.fixture(scope="module")
def glymur_files(mnist_test, photo, tmp_path_factory):
    """glymur's file path for every test below, in one child process: job name -> pairs."""
    jobs = {"default": (mnist_test.images[:300], {"numres": 3, "psnr": [30]}),
            # the default on 64x64: 5 resolutions (the coarsest level 4 px wide)
            "rgb": ([photo], {"numres": 5, "psnr": [30]}),
            **{repr(rate): (mnist_test.images[300:340], rate) for _, rate in OTHER_SETTINGS}}
    return dict(zip(jobs, glymur_file_round_trips(tmp_path_factory.mktemp("glymur"), list(jobs.values()))))


def test_default_codestreams_are_glymurs_file_bytes(mnist_test, glymur_files):
    """The committed baseline's setting: 300 MNIST digits, byte for byte and pixel for pixel."""
    c = codec()
    images = mnist_test.images[:300]
    assert len(glymur_files["default"]) == len(images)
    for image, (data, pixels) in zip(images, glymur_files["default"]):
        assert c.encode(image) == data
        np.testing.assert_array_equal(c.decode(data), pixels)


@pytest.mark.parametrize("given,rate", OTHER_SETTINGS)
def test_other_settings_match_glymur_too(mnist_test, glymur_files, given, rate):
    c = codec(**given)
    images = mnist_test.images[300:340]
    assert len(glymur_files[repr(rate)]) == len(images)
    for image, (data, pixels) in zip(images, glymur_files[repr(rate)]):
        assert c.encode(image) == data
        np.testing.assert_array_equal(c.decode(data), pixels)


def test_rgb_codestream_matches_glymur(photo, glymur_files):
    [(data, pixels)] = glymur_files["rgb"]
    assert codec().encode(photo) == data
    np.testing.assert_array_equal(codec().decode(data), pixels)


# -- resolutions ------------------------------------------------------------------------------

def resolutions(codestream: bytes) -> int:
    """Decomposition levels + 1, read from the COD marker (Lcod, Scod, SGcod, then SPcod)."""
    cod = codestream.index(b"\xff\x52")
    return codestream[cod + 9] + 1


@pytest.mark.parametrize("shape,expected", [
    ((28, 28), 3), ((31, 40), 3), ((32, 32), 4), ((102, 102), 5), ((64, 64, 3), 5),
    ((127, 600), 5), ((128, 128), 6), ((512, 512), 6), ((16, 4096), 3),
])
def test_the_default_gives_each_image_the_resolutions_that_fit_up_to_six(shape, expected):
    """The coarsest level keeps at least 4 px on the shorter side, up to OpenJPEG's 6."""
    image = np.zeros(shape, np.uint8)
    assert jpeg2000.max_numres(shape) >= expected
    assert resolutions(codec().encode(image)) == expected
    assert resolutions(codec(numres=6).encode(image)) == expected  # the default is numres=6


def test_an_explicit_numres_is_still_an_upper_bound():
    big, digit = np.zeros((512, 512), np.uint8), np.zeros((28, 28), np.uint8)
    assert [resolutions(codec(numres=n).encode(big)) for n in (1, 3, 8, 10)] == [1, 3, 8, 8]
    assert resolutions(codec(numres=10).encode(digit)) == 3


def test_imagecodecs_paths_keep_their_own_cap():
    """imagecodecs caps at int(log2(min side)) - 2: 2 on 28x28, then the same 6 as the default."""
    for backend, layout in (("imagecodecs", None), ("glymur", "imagecodecs")):
        given = {"backend": backend} | ({"layout": layout} if layout else {})
        assert resolutions(codec(**given).encode(np.zeros((28, 28), np.uint8))) == 2
        assert resolutions(codec(**given).encode(np.zeros((512, 512), np.uint8))) == 6


def test_default_labels_do_not_name_numres():
    assert make_spec(FACTORY, {}).label == "jpeg2000:psnr=30"
    assert make_spec(FACTORY, {"numres": 3}).label == "jpeg2000:psnr=30,numres=3"


def test_more_resolutions_code_a_photograph_in_fewer_bytes():
    """scikit-image's cameraman at psnr=30: 6 resolutions (the default) 0.197 bpp at 29.88 dB,
    the old 3 resolutions 0.234 bpp at 29.94 dB."""
    from skimage.data import camera

    image = camera()
    default, three = codec(), codec(numres=3)
    a, b = default.encode(image), three.encode(image)
    assert len(a) < 0.9 * len(b)
    assert psnr(image, default.decode(a)) > psnr(image, three.decode(b)) - 0.2


def test_openjpeg_stops_one_pass_short_of_the_target():
    """The documented miss (module docstring): on a flat image the passes are coarse, and
    OpenJPEG keeps the last truncation that does not reach the target, not the first that does."""
    flat = np.full((64, 64), 200, np.uint8)
    reached = {target: psnr(flat, codec(psnr=target, numres=3).decode(codec(psnr=target, numres=3).encode(flat)))
               for target in (25, 30, 35)}
    assert reached[25] == reached[30] and 22 < reached[30] < 22.5  # the next pass gives 34.2 dB
    assert 34 < reached[35] < 35


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
    import imagecodecs

    same_library = f"openjpeg {_openjpeg.chosen_library().version}" == imagecodecs.jpeg2k_version()
    ours, theirs = codec(layout="imagecodecs"), codec(backend="imagecodecs")
    for image in images:
        a, b = ours.encode(image), theirs.encode(image)
        # the COM marker names the library's OpenJPEG version, and nothing else differs
        assert without_comment(a) == without_comment(b)
        assert (a == b) == same_library
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
    from compbench_codecs import _openjpeg

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
                      "buffers_left": len(_openjpeg._BUFFERS)}))
""")


def test_random_truncated_and_flipped_bytes_raise_cleanly():
    """300 mutations, each decoded by both backends, in a child process: a crash or a hang would
    take the child down (and fail here), not the test run. How fast a bad codestream is refused
    is a speed claim, measured in benchmarks/bench_garbage_decode.py, not asserted here."""
    child = subprocess.run([sys.executable, "-c", FUZZ, "12", "300"], capture_output=True,
                           text=True, timeout=300)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert set(report["outcomes"]) <= {"decoded", "ValueError"}, report
    assert report["outcomes"]["ValueError"] > 200  # most mutations are caught
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


# -- which libopenjp2 ---------------------------------------------------------------------------

def test_the_newest_library_is_chosen_and_glymurs_wins_a_tie(monkeypatch):
    older = _openjpeg.Library("libopenjp2.so.7", "2.5.0", "glymur")
    newer = _openjpeg.Library("/x/pillow.libs/libopenjp2-1.so.2.5.4", "2.5.4", "bundled")
    monkeypatch.delenv("COMPBENCH_OPENJPEG", raising=False)
    for own, bundled, expected in [(older, [newer], newer), (newer._replace(source="glymur"), [newer], "glymur"),
                                   (None, [newer], newer), (older, [], older)]:
        monkeypatch.setattr(_openjpeg, "_glymur_library", lambda own=own: own)
        monkeypatch.setattr(_openjpeg, "_bundled_libraries", lambda bundled=bundled: bundled)
        _openjpeg.chosen_library.cache_clear()
        chosen = _openjpeg.chosen_library()
        assert chosen.source == expected if isinstance(expected, str) else chosen == expected
    monkeypatch.setattr(_openjpeg, "_glymur_library", lambda: None)
    monkeypatch.setattr(_openjpeg, "_bundled_libraries", lambda: [])
    _openjpeg.chosen_library.cache_clear()
    with pytest.raises(ValueError, match="cannot find the OpenJPEG library"):
        _openjpeg.chosen_library()
    _openjpeg.chosen_library.cache_clear()
    assert newer.describe() == "pillow.libs/libopenjp2-1.so.2.5.4 (bundled)"


WHICH_LIBRARY = textwrap.dedent("""
    import json
    from compbench.contracts.registry import build_registry
    factory = build_registry().codec("jpeg2000")
    availability = factory.available()
    print(json.dumps({"ok": availability.ok, "reason": availability.reason,
                      "versions": factory.library_versions() if availability.ok else None}))
""")


@pytest.mark.parametrize("setting", ["", "glymur", "/no/such/libopenjp2.so"])
def test_compbench_openjpeg_chooses_the_library_and_the_manifest_names_it(setting):
    import glymur

    env = {**os.environ, "COMPBENCH_OPENJPEG": setting}
    child = subprocess.run([sys.executable, "-c", WHICH_LIBRARY], env=env, capture_output=True,
                           text=True, timeout=120)
    assert child.returncode == 0, child.stderr[-2000:]
    report = json.loads(child.stdout)
    if setting.startswith("/"):
        assert not report["ok"] and "COMPBENCH_OPENJPEG=/no/such/libopenjp2.so" in report["reason"]
        return
    assert report["ok"], report
    versions = report["versions"]
    if setting == "glymur":
        assert versions["openjpeg"] == glymur.version.openjpeg_version
        assert versions["openjpeg_file"].endswith("(glymur)")
    else:
        newest = max([glymur.version.openjpeg_version] + [lib.version for lib in _openjpeg._bundled_libraries()],
                     key=_openjpeg._version_key)
        assert versions["openjpeg"] == newest


def test_both_libraries_decode_each_others_codestreams(mnist_test):
    """Encoded with whichever library is chosen, decoded with glymur's own and back: the
    libraries differ in speed, not in what a codestream means."""
    image = mnist_test.images[7]
    script = textwrap.dedent("""
        import sys, numpy as np
        from compbench.contracts.registry import build_registry
        from compbench.run.spec import make_spec
        f = build_registry().codec("jpeg2000")
        c = f.create(**make_spec(f, {}).kwargs)
        data = sys.stdin.buffer.read()
        sys.stdout.buffer.write(c.decode(data).tobytes())
    """)
    data = codec().encode(image)
    child = subprocess.run([sys.executable, "-c", script], input=data, capture_output=True, timeout=120,
                           env={**os.environ, "COMPBENCH_OPENJPEG": "glymur"})
    assert child.returncode == 0, child.stderr.decode()[-2000:]
    np.testing.assert_array_equal(np.frombuffer(child.stdout, np.uint8).reshape(28, 28), codec().decode(data))


HEADER_SHAPES = [(4, 4), (7, 9), (28, 28), (31, 64), (100, 37, 3), (128, 128), (255, 300, 3), (427, 640, 3),
                 (1000, 1500)]


@pytest.mark.parametrize("given", [{}, {"numres": 2}, {"psnr": 45.0}, {"ratio": 20.0}, {"layout": "imagecodecs"},
                                   {"backend": "imagecodecs", "layout": "imagecodecs"}])
def test_overhead_is_the_main_header_of_an_image_of_any_shape(given):
    """overhead_bytes comes from a small blank image with the same components and resolutions
    (jpeg2000.header_shape); it is the main header (SOC to the first SOT) + EOC of real images
    of every size."""
    c = codec(**given)
    rng = np.random.default_rng(5)
    for shape in HEADER_SHAPES:
        data = c.encode(rng.integers(0, 256, shape, dtype=np.uint8))
        assert c.overhead_bytes(shape) == data.find(jpeg2000.SOT) + 2, shape

"""compbench.metrics.measure against independent references, one image at a time.

References: scikit-image (structural_similarity, peak_signal_noise_ratio, mean_squared_error,
shannon_entropy), scipy.stats.entropy, and plain numpy written out here; never the module's
own helpers. Images: noise, gradients, real photographs from skimage.data with a JPEG-like
perturbation, and the edge cases (lossless, constant, all-zero, windows that do not fit).
"""

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from skimage import data
from skimage import measure as skimage_measure  # loaded on first use: at test time, not collection
from skimage import metrics as skimage_metrics

from compbench.metrics import measure as metrics
from compbench.metrics._work import OPENCV_MIN_VALUES
from compbench.metrics.measure import entropy_bits, image_metrics, psnr_from_mse, ssim_fits

NAMES = {"bytes", "bpp", "bpp_payload", "mse", "psnr", "psnr_y", "psnr_ycbcr", "snr_db", "ssim", "entropy",
         "snr_paper"}
#: colour transforms in float here, exact integers in the module: float rounding of the reference
LOOSER = {"psnr_y": 1e-10, "psnr_ycbcr": 1e-10}


# ---------------------------------------------------------------- references, per image


def legacy_signaltonoise(a, axis=None, ddof=0):
    """scipy.stats.signaltonoise as it was before its removal (scipy 1.0), whole image."""
    a = np.asanyarray(a)
    m = a.mean(axis)
    sd = a.std(axis=axis, ddof=ddof)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(sd == 0, 0, m / sd)


def ycbcr(rgb):
    """Full-range BT.601 YCbCr from Kr = 0.299, Kb = 0.114 (float), one (H, W, 3) image."""
    kr, kb = 0.299, 0.114
    r, g, b = (rgb[..., i].astype(np.float64) for i in range(3))
    luma = kr * r + (1 - kr - kb) * g + kb * b
    return luma, 128 + 0.5 * (b - luma) / (1 - kb), 128 + 0.5 * (r - luma) / (1 - kr)


def psnr_of(a, b):
    with np.errstate(divide="ignore"):
        return skimage_metrics.peak_signal_noise_ratio(a, b, data_range=255)


def colour_reference(x, y):
    """psnr_y, psnr_ycbcr (6:1:1 over the components with an error) and luma SSIM."""
    planes = list(zip(ycbcr(x), ycbcr(y), strict=True))
    psnrs = np.array([psnr_of(a, b) for a, b in planes])
    weights = np.array([6.0, 1.0, 1.0])[np.isfinite(psnrs)]
    ycbcr_psnr = (weights * psnrs[np.isfinite(psnrs)]).sum() / weights.sum() if len(weights) else np.inf
    ssim = skimage_metrics.structural_similarity(*planes[0], data_range=255) if min(x.shape[:2]) >= 7 else np.nan
    return psnrs[0], ycbcr_psnr, ssim


def reference(x, y, nbytes, overhead):
    """Every metric of one image pair, from scikit-image and numpy."""
    xf, yf = x.astype(np.float64), y.astype(np.float64)
    pixels = x.shape[0] * x.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        psnr = skimage_metrics.peak_signal_noise_ratio(x, y, data_range=255)
        snr_db = 10 * np.log10(np.sum(xf**2) / np.sum((xf - yf) ** 2))
    if min(x.shape[:2]) < 7:
        ssim = np.nan  # scikit-image raises (test_ssim_window_that_does_not_fit)
    else:
        ssim = skimage_metrics.structural_similarity(x, y, data_range=255, channel_axis=-1 if x.ndim == 3 else None)
    psnr_y = psnr_ycbcr = psnr  # gray: its own luma, no chroma
    if x.ndim == 3 and x.shape[2] == 3:
        psnr_y, psnr_ycbcr, ssim = colour_reference(x, y)
    return {
        "bytes": float(nbytes),
        "bpp": 8 * nbytes / pixels,
        "bpp_payload": 8 * (nbytes - overhead) / pixels,
        "mse": skimage_metrics.mean_squared_error(x, y),
        "psnr": psnr,
        "psnr_y": psnr_y,
        "psnr_ycbcr": psnr_ycbcr,
        "snr_db": snr_db,
        "ssim": ssim,
        "entropy": skimage_measure.shannon_entropy(y),
        "snr_paper": float(legacy_signaltonoise(y)),
    }


def reference_batch(x, y, nbytes, overhead):
    overhead = np.broadcast_to(overhead, (len(x),))
    rows = [reference(x[i], y[i], nbytes[i], overhead[i]) for i in range(len(x))]
    return {name: np.array([row[name] for row in rows]) for name in NAMES}


def assert_matches_reference(x, y, nbytes=None, overhead=0):
    if nbytes is None:
        nbytes = np.arange(len(x)) + 400
    got = image_metrics(x, y, nbytes, overhead)
    want = reference_batch(x, y, nbytes, overhead)
    assert set(got) == NAMES
    for name in NAMES:
        assert got[name].dtype == np.float64 and got[name].shape == (len(x),), name
        np.testing.assert_allclose(got[name], want[name], rtol=LOOSER.get(name, 1e-12),
                                   atol=1e-12,
                                   equal_nan=True, err_msg=name)
    return got


# ---------------------------------------------------------------- test images


def jpeg_like(x, step=12, sigma=4.0, seed=0):
    """A lossy reconstruction: coarse quantization plus noise, rounded and clipped to uint8."""
    rng = np.random.default_rng(seed)
    y = np.rint(x / step) * step + rng.normal(0, sigma, x.shape)
    return np.clip(np.rint(y), 0, 255).astype(np.uint8)


def downscale(image, factor):
    h, w = image.shape[0] // factor, image.shape[1] // factor
    blocks = image[: h * factor, : w * factor].reshape(h, factor, w, factor, *image.shape[2:])
    return np.rint(blocks.mean(axis=(1, 3))).astype(np.uint8)


def noise(shape, seed):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def gradient(h, w, channels=None):
    rows, cols = np.mgrid[0:h, 0:w]
    g = 255 * (rows + 2 * cols) / (h - 1 + 2 * (w - 1))
    if channels:
        g = np.stack([g, g[::-1], 255 - g][:channels], axis=-1)
    return np.rint(g).astype(np.uint8)


@pytest.fixture(scope="module")
def camera64():
    return downscale(data.camera(), 8)  # 64x64


@pytest.fixture(scope="module")
def astronaut64():
    return downscale(data.astronaut(), 8)  # 64x64x3


@pytest.fixture(scope="module")
def mixed_batch(camera64):
    """28x28 originals and reconstructions of every kind in one batch."""
    crops = [camera64[r : r + 28, c : c + 28] for r, c in [(0, 0), (36, 36), (10, 30), (30, 5)]]
    pairs = []
    for k in range(4):
        x = noise((28, 28), seed=k)
        pairs.append((x, jpeg_like(x, step=4 * k + 1, sigma=3.0 * k + 1, seed=k)))
    for g in (gradient(28, 28), gradient(28, 28)[::-1].T):
        pairs.append((g, jpeg_like(g, step=32, sigma=0)))
    pairs += [(c, jpeg_like(c, seed=i)) for i, c in enumerate(crops)]
    pairs.append((crops[0], crops[0].copy()))  # lossless
    pairs.append((crops[1], np.full((28, 28), 128, np.uint8)))  # constant reconstruction
    pairs.append((np.full((28, 28), 77, np.uint8), np.full((28, 28), 77, np.uint8)))
    pairs.append((np.full((28, 28), 10, np.uint8), np.full((28, 28), 200, np.uint8)))
    zeros = np.zeros((28, 28), np.uint8)
    pairs.append((zeros, noise((28, 28), seed=9) // 16))  # all-zero original, lossy
    pairs.append((zeros, zeros.copy()))  # all-zero original, lossless
    pairs.append((np.full((28, 28), 255, np.uint8), zeros.copy()))  # extremes
    checker = (255 * (np.indices((28, 28)).sum(axis=0) % 2)).astype(np.uint8)
    pairs.append((checker, 255 - checker))
    x = np.stack([p[0] for p in pairs])
    y = np.stack([p[1] for p in pairs])
    return x, y


# ---------------------------------------------------------------- the batch against references


@pytest.mark.parametrize("tile_samples", [metrics.TILE_SAMPLES, 3 * 784, 784, 1])
def test_mixed_batch_matches_per_image_references(mixed_batch, tile_samples, monkeypatch):
    # Small tiles: several tiles per batch, a partial last one, one image per tile, and (1)
    # each image in strips of one row (six more read below it for SSIM's windows).
    monkeypatch.setattr(metrics, "TILE_SAMPLES", tile_samples)
    monkeypatch.setattr(metrics, "STRIP_SAMPLES", tile_samples)
    monkeypatch.setattr(metrics, "STRIP_MIN_ROWS", 1)
    x, y = mixed_batch
    rng = np.random.default_rng(1)
    nbytes = rng.integers(200, 2000, len(x))
    overhead = rng.integers(0, 200, len(x))
    assert_matches_reference(x, y, nbytes, overhead)


def test_random_noise_batch():
    x = noise((40, 28, 28), seed=1)
    y = np.stack([jpeg_like(im, step=s, seed=s) for s, im in enumerate(x, start=1)])
    assert_matches_reference(x, y)


def test_smooth_gradients():
    x = np.stack([gradient(32, 32), gradient(32, 32).T, gradient(32, 32)[::-1]])
    y = np.stack([jpeg_like(im, step=s, sigma=0) for s, im in zip((2, 16, 64), x, strict=True)])
    assert_matches_reference(x, y)


def test_camera_crops_and_downscale(camera64):
    crops = np.stack([camera64[r : r + 40, c : c + 56] for r, c in [(0, 0), (24, 8), (12, 4)]])
    assert_matches_reference(crops, jpeg_like(crops, sigma=6))  # non-square 40x56
    assert_matches_reference(camera64[None], jpeg_like(camera64, step=20)[None])


def test_full_size_photographs():
    # One image per chunk and work buffers of a few MB; odd, non-square sizes.
    camera, coins = data.camera()[None], data.coins()[None]
    assert_matches_reference(camera, jpeg_like(camera, step=24, sigma=5))
    assert_matches_reference(coins, jpeg_like(coins, step=8))


def test_colour_images(astronaut64):
    # psnr over all channels; psnr_y, psnr_ycbcr and ssim on BT.601 YCbCr (colour_reference)
    crops = np.stack([astronaut64[r : r + 32, c : c + 48] for r, c in [(0, 0), (32, 16), (8, 8)]])
    nbytes = np.array([800, 900, 960])
    got = assert_matches_reference(crops, jpeg_like(crops, sigma=5), nbytes)
    # bpp is per pixel (H*W), not per channel sample
    np.testing.assert_array_equal(got["bpp"], 8 * nbytes / (32 * 48))
    assert_matches_reference(astronaut64[None], jpeg_like(astronaut64)[None])
    rgb_gradient = gradient(20, 30, channels=3)[None]
    assert_matches_reference(rgb_gradient, jpeg_like(rgb_gradient, step=30, sigma=0))


@pytest.mark.parametrize("tile_samples", [metrics.TILE_SAMPLES, 3 * 32 * 48, 1000, 1])
def test_colour_images_in_strips(astronaut64, tile_samples, monkeypatch):
    # whole images per tile, one per tile, strips of a few rows, strips of one row
    monkeypatch.setattr(metrics, "TILE_SAMPLES", tile_samples)
    monkeypatch.setattr(metrics, "STRIP_SAMPLES", tile_samples)
    monkeypatch.setattr(metrics, "STRIP_MIN_ROWS", 1)
    crops = np.stack([astronaut64[r : r + 32, c : c + 48] for r, c in [(0, 0), (32, 16), (8, 8)]])
    assert_matches_reference(crops, jpeg_like(crops, sigma=5), np.array([800, 900, 960]))


def test_single_channel_axis(camera64):
    x = camera64[None, :30, :40, None]  # (1, 30, 40, 1)
    assert_matches_reference(x, jpeg_like(x))


@pytest.mark.parametrize("channels", [2, 4])
def test_other_channel_counts(camera64, channels, monkeypatch):
    # SSIM per channel, averaged (scikit-image's channel_axis); no YCbCr: psnr_y is psnr and
    # psnr_ycbcr NaN. In tiles and in strips.
    x = np.stack([np.roll(camera64, 7 * c, axis=1) for c in range(channels)], axis=-1)[None, :40, :50]
    y = jpeg_like(x, sigma=4)
    for tile_samples in (metrics.TILE_SAMPLES, 1):
        monkeypatch.setattr(metrics, "STRIP_SAMPLES", tile_samples)
        monkeypatch.setattr(metrics, "TILE_SAMPLES", tile_samples)
        got = image_metrics(x, y, [500], 0)
        want = reference(x[0], y[0], 500, 0)
        for name in NAMES - {"psnr_ycbcr"}:
            np.testing.assert_allclose(got[name][0], want[name], rtol=1e-12, atol=1e-12, err_msg=name)
        assert np.isnan(got["psnr_ycbcr"][0])


def test_non_contiguous_inputs(camera64):
    x = np.stack([camera64, camera64.T])[:, ::2, 1::3]  # strided views
    y = np.asfortranarray(jpeg_like(x))
    assert_matches_reference(x, y)


def test_inputs_are_not_modified(mixed_batch):
    x, y = mixed_batch
    x0, y0 = x.copy(), y.copy()
    image_metrics(x, y, np.full(len(x), 500), 10)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)


# ---------------------------------------------------------------- edge cases, exact values


def test_lossless(camera64):
    x = np.stack([camera64[:28, :28], noise((28, 28), 3), np.zeros((28, 28), np.uint8)])
    got = image_metrics(x, x.copy(), np.array([300, 400, 500]), 100)
    np.testing.assert_array_equal(got["mse"], 0.0)
    np.testing.assert_array_equal(got["psnr"], np.inf)
    np.testing.assert_array_equal(got["snr_db"], [np.inf, np.inf, np.nan])  # 0/0 for all-zero
    np.testing.assert_allclose(got["ssim"], 1.0, rtol=0, atol=1e-15)


def test_constant_reconstruction():
    x = noise((2, 16, 16), 4)
    y = np.stack([np.full((16, 16), 0, np.uint8), np.full((16, 16), 200, np.uint8)])
    got = assert_matches_reference(x, y)
    np.testing.assert_array_equal(got["snr_paper"], 0.0)  # std 0 -> 0, as legacy scipy
    np.testing.assert_array_equal(got["entropy"], 0.0)
    assert not np.signbit(got["entropy"]).any()  # +0.0, not -0.0


def test_all_zero_original():
    x = np.zeros((2, 8, 8), np.uint8)
    y = np.stack([x[0], np.eye(8, dtype=np.uint8) * 3])
    got = assert_matches_reference(x, y)
    assert np.isnan(got["snr_db"][0]) and got["snr_db"][1] == -np.inf
    assert got["psnr"][0] == np.inf
    np.testing.assert_allclose(got["mse"][1], 8 * 9 / 64)


def test_ssim_window_that_does_not_fit():
    x = noise((3, 5, 5), 5)
    y = jpeg_like(x)
    with pytest.raises(ValueError):  # why image_metrics reports NaN instead
        skimage_metrics.structural_similarity(x[0], y[0], data_range=255)
    got = assert_matches_reference(x, y)  # every other metric still computed
    assert np.isnan(got["ssim"]).all()
    assert np.isfinite(got["psnr"]).all()
    wide = noise((2, 6, 30), 6)
    assert np.isnan(image_metrics(wide, jpeg_like(wide), [9, 9], 0)["ssim"]).all()


@pytest.mark.parametrize("shape", [(7, 7), (7, 12), (12, 7), (7, 7, 3)])
def test_ssim_window_that_just_fits(shape):
    x = noise((4, *shape), 7)
    got = assert_matches_reference(x, jpeg_like(x, sigma=8))
    assert np.isfinite(got["ssim"]).all()


def test_the_fused_pass_gives_the_core_metrics_declared_without_a_compute_in_their_order():
    """Its columns are named by the core declarations alone (compbench.metrics.core); a new
    one fails here until it has a reference above (NAMES)."""
    from compbench.metrics import CORE_METRICS

    declared = [m.name for m in CORE_METRICS if m.compute is None and not m.timing]
    x = noise((2, 28, 28), 3)
    got = image_metrics(x, x // 2, np.array([10, 20]), 0)
    assert list(got) == declared == list(metrics.FUSED_METRICS) and set(declared) == NAMES


def test_bytes_bpp_and_payload_by_hand():
    x = noise((3, 10, 20), 8)
    nbytes = np.array([100, 250, 1000])
    got = image_metrics(x, x, nbytes, 40)
    np.testing.assert_array_equal(got["bytes"], [100.0, 250.0, 1000.0])
    np.testing.assert_array_equal(got["bpp"], [4.0, 10.0, 40.0])  # 8 * bytes / 200 pixels
    np.testing.assert_array_equal(got["bpp_payload"], [2.4, 8.4, 38.4])
    per_image = image_metrics(x, x, nbytes, np.array([0, 250, 500]))
    np.testing.assert_array_equal(per_image["bpp_payload"], [4.0, 0.0, 20.0])


def test_empty_batch():
    empty = np.zeros((0, 28, 28), np.uint8)
    got = image_metrics(empty, empty, np.zeros(0, int), 0)
    assert set(got) == NAMES and all(v.shape == (0,) for v in got.values())


@pytest.mark.parametrize("args, error", [
    ((np.zeros((2, 8, 8)), np.zeros((2, 8, 8), np.uint8), [1, 1], 0), TypeError),  # float
    ((np.zeros((2, 8, 8), np.uint8), np.zeros((2, 8, 9), np.uint8), [1, 1], 0), ValueError),
    ((np.zeros((8, 8), np.uint8), np.zeros((8, 8), np.uint8), [1], 0), ValueError),  # no batch
    ((np.zeros((2, 8, 8), np.uint8), np.zeros((2, 8, 8), np.uint8), [1, 1, 1], 0), ValueError),
    ((np.zeros((2, 8, 8), np.uint8), np.zeros((2, 8, 8), np.uint8), [1.5, 2.0], 0), TypeError),
    ((np.zeros((2, 8, 8), np.uint8), np.zeros((2, 8, 8), np.uint8), [10, 5], 6), ValueError),
    ((np.zeros((2, 8, 8), np.uint8), np.zeros((2, 8, 8), np.uint8), [10, 5], -1), ValueError),
])
def test_bad_input(args, error):
    with pytest.raises(error):
        image_metrics(*args)


# ---------------------------------------------------------------- the small helpers


def test_entropy_bits_against_skimage_and_scipy(camera64, astronaut64):
    import scipy.stats  # at test time: importing it costs more than collecting every test here

    for image in (data.camera(), camera64, astronaut64, noise((28, 28), 10), gradient(9, 13)):
        histogram = np.bincount(image.ravel(), minlength=256)
        bits = entropy_bits(image)
        assert bits == pytest.approx(skimage_measure.shannon_entropy(image), abs=1e-12)
        assert bits == pytest.approx(scipy.stats.entropy(histogram, base=2), abs=1e-12)


def test_entropy_bits_exact_values():
    assert entropy_bits(np.full((5, 7), 42, np.uint8)) == 0.0
    assert entropy_bits(np.array([[0, 255], [255, 0]], np.uint8)) == pytest.approx(1.0, abs=1e-15)
    every_value = np.repeat(np.arange(256, dtype=np.uint8), 3).reshape(24, 32)
    assert entropy_bits(every_value) == pytest.approx(8.0, abs=1e-15)


@pytest.mark.parametrize("pixels", [1, 28 * 28, OPENCV_MIN_VALUES - 1, OPENCV_MIN_VALUES, 3 * OPENCV_MIN_VALUES])
def test_histograms_of_one_strip_count_exactly_by_numpy_or_opencv(pixels):
    strip = np.random.default_rng(pixels).integers(0, 256, (1, 1, pixels, 1), dtype=np.uint8)
    counts = metrics._histograms(strip)
    assert np.array_equal(counts[0], np.bincount(strip.ravel(), minlength=256))


@pytest.mark.parametrize("shape", [(28, 28), (127, 129), (128, 128), (130, 131, 3)])
def test_a_lone_image_measures_as_it_does_beside_others(shape):
    """A setting's first images are measured one by one (the pool's probe): below
    OPENCV_MIN_VALUES values per plane numpy's passes, above OpenCV's; either way the same
    values as the image gets in a tile beside others (all exact sums)."""
    rng = np.random.default_rng(len(shape) * shape[0])
    x = rng.integers(0, 256, (2, *shape), dtype=np.uint8)
    y = np.clip(x.astype(int) + rng.integers(-9, 10, x.shape), 0, 255).astype(np.uint8)
    together = image_metrics(x, y, np.array([300, 400]), 20)
    alone = image_metrics(x[:1], y[:1], np.array([300]), 20)
    for name, values in alone.items():
        np.testing.assert_array_equal(values, together[name][:1], err_msg=name)


def test_a_lone_digit_is_measured_without_importing_opencv():
    """OpenCV's import costs a worker ~0.1 s of CPU; small images never need it."""
    code = ("import sys, numpy as np\n"
            "from compbench.metrics.measure import image_metrics\n"
            "x = np.arange(784, dtype=np.uint8).reshape(1, 28, 28)\n"
            "image_metrics(x, 255 - x, np.array([90]), 10)\n"
            "print('cv2' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False", found.stderr


def test_psnr_from_mse():
    assert psnr_from_mse(0.0) == np.inf
    assert psnr_from_mse(255.0**2) == 0.0
    assert psnr_from_mse(1.0) == pytest.approx(20 * np.log10(255), abs=1e-12)
    np.testing.assert_allclose(psnr_from_mse(np.array([1.0, 100.0])),
                               [48.1308036086791, 28.1308036086791])


def test_opencv_takes_the_workers_thread_count(monkeypatch):
    """A worker sets OMP_NUM_THREADS to its share of the cores (compbench.run.worker_process); OpenCV,
    imported by the metrics, follows it rather than starting a thread per core."""
    import cv2
    before = cv2.getNumThreads()
    try:
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert metrics.opencv().getNumThreads() == 1
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert metrics.opencv().getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)


def test_a_forked_child_runs_opencv_and_the_parent_keeps_its_threads(monkeypatch):
    """Workers are forked from processes that measured with OpenCV's thread pool (a test run,
    a notebook). The pool is stopped around each fork (a pool thread holding its lock at that
    moment would leave the child hanging in its first OpenCV call) and restarted after: each
    child runs OpenCV with its own thread count, the parent keeps its own."""
    import cv2
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    plane = np.random.default_rng(0).random((1500, 1500), dtype=np.float32)
    metrics.opencv().GaussianBlur(plane, (7, 7), 1.5)  # the parent's pool threads run
    for _ in range(8):
        pid = os.fork()
        if pid == 0:  # the child: exit 0 only when OpenCV works with the child's thread count
            signal.alarm(20)
            os.environ["OMP_NUM_THREADS"] = "1"
            child_cv2 = metrics.opencv()
            child_cv2.GaussianBlur(plane, (7, 7), 1.5)
            os._exit(0 if child_cv2.getNumThreads() == 1 else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert cv2.getNumThreads() == 2


def test_ssim_fits():
    assert not ssim_fits((5, 5)) and not ssim_fits((6, 30)) and not ssim_fits((30, 6, 3))
    assert ssim_fits((7, 7)) and ssim_fits((28, 28)) and ssim_fits((7, 9, 3))

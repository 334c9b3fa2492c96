"""The field's metrics on real photographs (skimage.data: astronaut, coffee, chelsea, camera)
with JPEG-degraded reconstructions, each against an independent computation:

- psnr (all channels) against CompressAI's formula on [0, 1] floats;
- psnr_y and psnr_ycbcr against scikit-image's studio-range ``rgb2ycbcr`` rescaled to full
  range, and against a float BT.601 transform written from Kr and Kb;
- ssim (luma for colour) against scikit-image's ``structural_similarity`` on that luma plane;
- ms_ssim against pytorch-msssim itself, and a direct numpy implementation written here (Gaussian window,
  valid filtering, 2x2 average pooling with pytorch-msssim's zero padding of odd sides), both in
  float64, to :data:`MS_SSIM_RTOL`; everything else to 1e-10 or tighter.
"""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from PIL import Image
from skimage import color, data, metrics  # scikit-image loads each on first use
from test_metrics import colour_reference

from compbench.metrics import CORE
from compbench.metrics import ms_ssim as ms_ssim_module
from compbench.metrics.measure import MS_SSIM_MIN_SIDE, image_metrics, ms_ssim, ms_ssim_window

#: MS-SSIM is computed in float32 (as pytorch-msssim computes it): on scikit-image's photographs
#: JPEG-compressed at qualities 2 to 95 it is within 6e-8 (relative) of float64
#: (``benchmarks/bench_metrics.py --precision``); 5e-7 leaves room for other SIMD code paths and
#: stays within the 1e-6 the metric is allowed to move.
MS_SSIM_RTOL = 5e-7


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(io.BytesIO(buffer.getvalue())))


PHOTOS = {"astronaut": data.astronaut, "coffee": data.coffee, "chelsea": data.chelsea}


@pytest.fixture(scope="module", params=sorted(PHOTOS))
def photo(request):
    """(original, JPEG quality 30 reconstruction) of one full-size colour photograph."""
    x = PHOTOS[request.param]()
    return x, jpeg(x, 30)


def full_range_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """scikit-image's rgb2ycbcr is studio range (Y 16..235, C 16..240): rescale to 0..255."""
    studio = color.rgb2ycbcr(rgb)
    return np.stack([(studio[..., 0] - 16) * 255 / 219, (studio[..., 1] - 128) * 255 / 224 + 128,
                     (studio[..., 2] - 128) * 255 / 224 + 128], axis=-1)


def psnr(a, b) -> float:
    return 10 * np.log10(255.0**2 / np.mean((np.asarray(a, float) - np.asarray(b, float)) ** 2))


def test_psnr_over_all_channels_as_compressai(photo):
    x, y = photo
    got = image_metrics(x[None], y[None], [1000], 0)["psnr"][0]
    # CompressAI: -10 log10(mse) of images scaled to [0, 1], all channels pooled
    a, b = x.astype(np.float64) / 255, y.astype(np.float64) / 255
    assert got == pytest.approx(-10 * np.log10(np.mean((a - b) ** 2)), rel=1e-12)


def test_psnr_y_and_ycbcr_against_scikit_image(photo):
    x, y = photo
    got = image_metrics(x[None], y[None], [1000], 0)
    fx, fy = full_range_ycbcr(x), full_range_ycbcr(y)
    # luma coefficients are the same numbers in scikit-image: agreement to float noise
    assert got["psnr_y"][0] == pytest.approx(psnr(fx[..., 0], fy[..., 0]), rel=1e-10)
    # its chroma coefficients are rounded to 3 decimals of the 224-level scale: ~1e-5 dB apart
    weighted = (6 * psnr(fx[..., 0], fy[..., 0]) + psnr(fx[..., 1], fy[..., 1]) + psnr(fx[..., 2], fy[..., 2])) / 8
    assert got["psnr_ycbcr"][0] == pytest.approx(weighted, abs=1e-3)
    want_y, want_ycbcr, _ = colour_reference(x, y)
    assert got["psnr_ycbcr"][0] == pytest.approx(want_ycbcr, rel=1e-10)
    assert got["psnr_y"][0] != pytest.approx(got["psnr"][0], abs=0.1)  # not the RGB PSNR


def test_ssim_is_on_luma_for_colour(photo):
    x, y = photo
    got = image_metrics(x[None], y[None], [1000], 0)["ssim"][0]
    luma_x, luma_y = full_range_ycbcr(x)[..., 0], full_range_ycbcr(y)[..., 0]
    assert got == pytest.approx(metrics.structural_similarity(luma_x, luma_y, data_range=255), abs=1e-12)
    per_channel = metrics.structural_similarity(x, y, data_range=255, channel_axis=-1)
    assert got != pytest.approx(per_channel, abs=1e-4)


def test_gray_photograph_colour_metrics_equal_psnr():
    x = data.camera()
    y = jpeg(x, 20)
    got = image_metrics(x[None], y[None], [1000], 0)
    assert got["psnr_y"][0] == got["psnr"][0] == got["psnr_ycbcr"][0]
    # the same image as RGB (R = G = B): no chroma error, so PSNR-YCbCr is its PSNR-Y, not +inf
    rgb = np.repeat(x[..., None], 3, axis=-1), np.repeat(y[..., None], 3, axis=-1)
    as_rgb = image_metrics(rgb[0][None], rgb[1][None], [1000], 0)
    assert as_rgb["psnr_ycbcr"][0] == pytest.approx(as_rgb["psnr_y"][0], rel=1e-12)
    assert as_rgb["psnr_y"][0] == pytest.approx(got["psnr"][0], rel=1e-12)


def test_lossless_colour_image_is_infinite_everywhere():
    x = data.chelsea()[:64, :64]
    got = image_metrics(x[None], x[None], [100], 0)
    assert got["psnr_y"][0] == got["psnr_ycbcr"][0] == np.inf
    assert got["ssim"][0] == pytest.approx(1.0, abs=1e-15)


# ---------------------------------------------------------------- MS-SSIM


def gaussian(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    offsets = np.arange(size) - size // 2
    g = np.exp(-(offsets**2) / (2 * sigma**2))
    return g / g.sum()


def blur(plane: np.ndarray) -> np.ndarray:
    """Valid (no padding) separable Gaussian filtering."""
    g = gaussian()
    rows = sliding_window_view(plane, len(g), axis=0) @ g
    return sliding_window_view(rows, len(g), axis=1) @ g


def pool(plane: np.ndarray) -> np.ndarray:
    """2x2 average, an odd side zero-padded by one on both ends (counted in the average)."""
    ph, pw = plane.shape[0] % 2, plane.shape[1] % 2
    padded = np.pad(plane, ((ph, ph), (pw, pw)))
    h, w = (plane.shape[0] + 2 * ph - 2) // 2 + 1, (plane.shape[1] + 2 * pw - 2) // 2 + 1
    return padded[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(axis=(1, 3))


def ms_ssim_reference(x: np.ndarray, y: np.ndarray) -> float:
    """Wang, Simoncelli & Bovik (2003) with the usual weights, per channel, channels averaged."""
    weights = [0.0448, 0.2856, 0.3001, 0.2363, 0.1333]
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    x = x.astype(np.float64).reshape(*x.shape[:2], -1)
    y = y.astype(np.float64).reshape(*y.shape[:2], -1)
    values = []
    for channel in range(x.shape[2]):
        a, b = x[..., channel], y[..., channel]
        value = 1.0
        for level, weight in enumerate(weights):
            mu_a, mu_b = blur(a), blur(b)
            var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
            cov = blur(a * b) - mu_a * mu_b
            cs = (2 * cov + c2) / (var_a + var_b + c2)
            if level < len(weights) - 1:
                value *= max(cs.mean(), 0.0) ** weight
                a, b = pool(a), pool(b)
            else:
                ssim = ((2 * mu_a * mu_b + c1) / (mu_a**2 + mu_b**2 + c1)) * cs
                value *= max(ssim.mean(), 0.0) ** weight
        values.append(value)
    return float(np.mean(values))


def test_ms_ssim_against_numpy_on_photographs(photo):
    x, y = photo  # 512x512, 400x600, 300x451: odd sides pool with padding
    got = ms_ssim(x[None], y[None])[0]
    assert got == pytest.approx(ms_ssim_reference(x, y), rel=MS_SSIM_RTOL)
    assert 0.8 < got < 1.0


def test_ms_ssim_gray_batch_and_smallest_size():
    camera = data.camera()
    side = MS_SSIM_MIN_SIDE
    crops = np.stack([camera[:side, :side], camera[100 : 100 + side, 200 : 200 + side]])
    degraded = np.stack([jpeg(c, q) for c, q in zip(crops, (10, 50), strict=True)])
    got = ms_ssim(crops, degraded)
    want = [ms_ssim_reference(c, d) for c, d in zip(crops, degraded, strict=True)]
    np.testing.assert_allclose(got, want, rtol=MS_SSIM_RTOL)
    assert got[0] < got[1]  # the stronger JPEG is the worse
    np.testing.assert_array_equal(ms_ssim(crops, crops), 1.0)  # exactly: var(x - y) = 0 at every scale


def pytorch_msssim_reference(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """pytorch-msssim itself on a batch (M, H, W[, C]), in float64 with a float64 window."""
    import pytorch_msssim as reference  # the test extra's reference: never skipped
    import torch
    x, y = (a[..., None] if a.ndim == 3 else a for a in (x, y))
    window = torch.from_numpy(np.tile(gaussian(), (x.shape[3], 1, 1, 1)))

    def tensor(batch):
        return torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float64))

    return reference.ms_ssim(tensor(x), tensor(y), data_range=255, win=window, size_average=False).numpy()


@pytest.mark.parametrize("name", ["astronaut", "camera", "rocket"])
def test_ms_ssim_is_pytorch_msssims(name):
    """compbench's float32 computation gives pytorch-msssim's float64 numbers (colour, gray,
    odd sides)."""
    x = getattr(data, name)()
    y = jpeg(x, 20)
    np.testing.assert_allclose(ms_ssim(x[None], y[None]), pytorch_msssim_reference(x[None], y[None]),
                               rtol=MS_SSIM_RTOL)


@pytest.mark.parametrize("shape", [(427, 640, 3), (300, 451, 3), (161, 163), (333, 177)])
def test_ms_ssim_strips_change_nothing(shape, monkeypatch):
    """Strips of 11 rows (one window), and their pooling, give the whole image's numbers: every
    pixel's float32 value is the same, only the order of the sums differs. Odd and even sides,
    so that the pooling's zero padding falls inside a strip's share and at its edges."""
    x = data.rocket()[: shape[0], : shape[1]]
    x = x if len(shape) == 3 else x[..., 1]
    y = jpeg(x, 15)
    monkeypatch.setattr(ms_ssim_module, "STRIP_PIXELS", 10**9)  # one strip per scale
    whole = ms_ssim(x[None], y[None])
    monkeypatch.setattr(ms_ssim_module, "STRIP_PIXELS", 1)
    monkeypatch.setattr(ms_ssim_module, "STRIP_MIN_ROWS", 1)
    np.testing.assert_allclose(ms_ssim(x[None], y[None]), whole, rtol=1e-12)
    assert whole[0] == pytest.approx(ms_ssim_reference(x, y), rel=MS_SSIM_RTOL)


def test_filtering_then_cropping_is_the_valid_convolution():
    """MS-SSIM filters 'same'-size with OpenCV and crops the window's half-width: the kept
    pixels never see the border (any border mode gives the same bits), and they are the valid
    convolution (to float32 rounding)."""
    import cv2
    plane = np.random.default_rng(3).integers(-255, 256, (40, 57)).astype(np.float32)
    window = ms_ssim_module.float32_window()
    crops = [cv2.sepFilter2D(plane, cv2.CV_32F, window, window, borderType=border)[5:-5, 5:-5]
             for border in (cv2.BORDER_CONSTANT, cv2.BORDER_REPLICATE, cv2.BORDER_REFLECT_101)]
    for crop in crops[1:]:
        np.testing.assert_array_equal(crop, crops[0])
    np.testing.assert_allclose(crops[0], blur(plane.astype(np.float64)), rtol=0, atol=1e-4)


def test_ms_ssim_of_four_channels_is_their_mean():
    x = np.concatenate([data.astronaut(), data.camera()[..., None]], axis=-1)[:200, :240]  # RGBA-like
    y = jpeg(x[..., :3], 20)
    y = np.concatenate([y, jpeg(x[..., 3], 40)[..., None]], axis=-1)
    per_channel = [ms_ssim(x[None, ..., c], y[None, ..., c])[0] for c in range(4)]
    assert ms_ssim(x[None], y[None])[0] == pytest.approx(np.mean(per_channel), rel=1e-12)


def test_float32_window_sums_to_one():
    """Rounded to float32, the window's taps would sum to 1 - 1.4e-9 (biasing every variance
    G(u^2) - G(u)^2 by that much of G(u)^2); nudged, they sum to exactly 1 and stay within a few
    units in the last place of the float64 window, symmetric."""
    window = ms_ssim_module.float32_window()
    assert window.dtype == np.float32 and (window == window[::-1]).all()
    assert window.astype(np.float64).sum() == 1.0  # exact: float32 taps sum exactly in float64
    np.testing.assert_allclose(window, ms_ssim_window(), rtol=2e-6)
    assert ms_ssim_window().astype(np.float32).astype(np.float64).sum() != 1.0


def test_ms_ssim_is_nan_when_five_scales_do_not_fit():
    small = data.camera()[: MS_SSIM_MIN_SIDE - 1, :300]
    assert np.isnan(ms_ssim(small[None], small[None])).all()
    assert "under 161 pixels" in CORE["ms_ssim"].description  # the reason, shown in the report


def test_metrics_never_import_torch():
    """Neither small images (no MS-SSIM) nor photographs (MS-SSIM with scipy) load PyTorch."""
    code = ("import sys, numpy as np\n"
            "from compbench.metrics import CORE\n"
            "x = np.zeros((3, 28, 28), np.uint8)\n"
            "values = CORE.measure(x, x + 1, [10, 10, 10], 0)\n"
            "assert np.isnan(values['ms_ssim']).all()\n"
            "x = np.arange(200 * 210 * 3, dtype=np.uint32).reshape(1, 200, 210, 3).astype(np.uint8)\n"
            "values = CORE.measure(x, x // 2, [10], 0)\n"
            "assert 0 < values['ms_ssim'][0] < 1\n"
            "print('torch' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

"""SSIMULACRA 2 (version 2.1, libjxl's ``tools/ssimulacra2.cc``), vectorised over a batch.

The pipeline of the C++ tool, step by step (Jon Sneyers, Cloudinary, 2022-2023):

- 8-bit sRGB to linear RGB (the sRGB transfer curve); a gray image is R = G = B, as the tool
  converts a gray PNG;
- six scales, 1:1 to 1:32, each a 2x2 box average of the one before, computed in linear RGB
  (an odd last row or column is repeated), as long as the scale before was at least 8x8;
- at each scale: linear RGB to XYB (libjxl's opsin absorbance matrix and bias, cube root), made
  positive (X' = 14 X + 0.42, Y' = Y + 0.01, B' = B - Y + 0.55), blurred with a sigma 1.5
  Gaussian (:mod:`.recursive_gaussian`), and three error maps per component: 1 - SSIM' (SSIM
  without the luminance denominator, C2 = 0.0009), "ringing" (the reconstruction has an edge
  where the original is smooth) and "blurring" (the reverse);
- the 1-norm and 4-norm of each map: 6 scales x 3 components x 3 maps x 2 norms = 108 numbers,
  weighted (libjxl's 108 weights, taken in order over the scales computed), then
  100 - 10 s^0.6276 of a cubic of the sum: 100 for identical images, lower is worse (it can go
  below 0).

Arithmetic is float32 like the tool's, with float64 sums. The tool's recursive blur adds
float32 rounding noise (~1e-6) that the SSIM' term amplifies on flat regions; this module's blur
is the same filter without that noise, so on flat or nearly flat content (a uniform shift, a
tiny change to a smooth gradient) its scores differ from the tool's by up to ~2 points there,
while on textured content they agree to ~0.01 (docs/metrics.md, tests/test_ssimulacra2.py).
"""

from __future__ import annotations

import numpy as np

from .recursive_gaussian import Tiles

__all__ = ["SSIMULACRA2_MIN_SIDE", "ssimulacra2", "ssimulacra2_fits"]

#: libjxl's tool refuses smaller images ("Minimum image size is 8x8 pixels.")
SSIMULACRA2_MIN_SIDE = 8
NUM_SCALES = 6
C2 = np.float32(0.0009)
# libjxl's opsin absorbance matrix (rows: L, M, S mixtures of linear R, G, B) and bias
_M02, _M00, _M12, _M10 = 0.078, 0.30, 0.078, 0.23
_M20, _M21 = 0.24342268924547819, 0.20476744424496821
OPSIN = np.array([[_M00, 1.0 - _M02 - _M00, _M02],
                  [_M10, 1.0 - _M12 - _M10, _M12],
                  [_M20, _M21, 1.0 - _M20 - _M21]], dtype=np.float32)
OPSIN_BIAS = np.float32(0.0037930732552754493)
CBRT_BIAS = np.cbrt(OPSIN_BIAS)
#: libjxl's weights, in the order (component X/Y/B, scale, norm 1/4, map SSIM/ringing/blurring)
WEIGHTS = np.array([
    0.0, 0.0007376606707406586, 0.0, 0.0, 0.0007793481682867309, 0.0, 0.0, 0.0004371155730107379,
    0.0, 1.1041726426657346, 0.00066284834129271, 0.00015231632783718752, 0.0, 0.0016406437456599754,
    0.0, 1.8422455520539298, 11.441172603757666, 0.0, 0.0007989109436015163, 0.000176816438078653,
    0.0, 1.8787594979546387, 10.94906990605142, 0.0, 0.0007289346991508072, 0.9677937080626833,
    0.0, 0.00014003424285435884, 0.9981766977854967, 0.00031949755934435053, 0.0004550992113792063,
    0.0, 0.0, 0.0013648766163243398, 0.0, 0.0, 0.0, 0.0, 0.0, 7.466890328078848, 0.0,
    17.445833984131262, 0.0006235601634041466, 0.0, 0.0, 6.683678146179332, 0.00037724407979611296,
    1.027889937768264, 225.20515300849274, 0.0, 0.0, 19.213238186143016, 0.0011401524586618361,
    0.001237755635509985, 176.39317598450694, 0.0, 0.0, 24.43300999870476, 0.28520802612117757,
    0.0004485436923833408, 0.0, 0.0, 0.0, 34.77906344483772, 44.835625328877896, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0008680556573291698, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0005313191874358747,
    0.0, 0.00016533814161379112, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0004179171803251336,
    0.0017290828234722833, 0.0, 0.0020827005846636437, 0.0, 0.0, 8.826982764996862,
    23.19243343998926, 0.0, 95.1080498811086, 0.9863978034400682, 0.9834382792465353,
    0.0012286405048278493, 171.2667255897307, 0.9807858872435379, 0.0, 0.0, 0.0,
    0.0005130064588990679, 0.0, 0.00010854057858411537,
])


def ssimulacra2_fits(shape) -> bool:
    """Whether SSIMULACRA 2 scores an image of this shape, (H, W) or (H, W, C)."""
    return min(shape[0], shape[1]) >= SSIMULACRA2_MIN_SIDE


def ssimulacra2(originals, reconstructions) -> np.ndarray:
    """SSIMULACRA 2 of each image of a batch, (N, H, W) gray or (N, H, W, 3) RGB uint8, as
    libjxl's tool computes it (module docstring); NaN for images under 8x8 pixels."""
    x, y = np.asarray(originals), np.asarray(reconstructions)
    if x.shape != y.shape:
        raise ValueError(f"originals {x.shape} and reconstructions {y.shape} differ in shape")
    if x.dtype != np.uint8 or y.dtype != np.uint8:
        raise TypeError(f"SSIMULACRA 2 takes uint8 images, got {x.dtype} and {y.dtype}")
    if x.ndim == 4 and x.shape[3] == 1:
        x, y = x[..., 0], y[..., 0]
    if x.ndim not in (3, 4) or (x.ndim == 4 and x.shape[3] != 3):
        raise ValueError(f"SSIMULACRA 2 takes (N, H, W) gray or (N, H, W, 3) RGB images, got {x.shape}")
    if len(x) == 0 or not ssimulacra2_fits(x.shape[1:]):
        return np.full(len(x), np.nan)
    gray = x.ndim == 3
    linear1, linear2 = _LINEAR[x], _LINEAR[y]
    features = []
    for scale in range(NUM_SCALES):
        if scale:
            if min(linear1.shape[1:3]) < SSIMULACRA2_MIN_SIDE:  # the tool's test, on the scale before
                break
            linear1, linear2 = _downsample(linear1), _downsample(linear2)
        tiles = Tiles(len(x) * (1 if gray else 3), *linear1.shape[1:3])
        features.append(_scale_features(_positive_xyb(linear1, gray, tiles),
                                        _positive_xyb(linear2, gray, tiles), tiles, len(x)))
    return _score(np.stack(features, axis=1))


def _srgb_to_linear() -> np.ndarray:
    v = np.arange(256) / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


#: 8-bit sRGB to linear, one entry per code value
_LINEAR = _srgb_to_linear()
#: pixels per chunk of the per-pixel work, so its temporaries stay in the CPU's cache (whole
#: photographs through numpy cost several times more, in memory traffic)
CHUNK = 1 << 15


def _downsample(linear: np.ndarray) -> np.ndarray:
    """2x2 box average, an odd last row or column repeated (libjxl's Downsample), summed in the
    tool's order."""
    if linear.shape[1] % 2:
        linear = np.concatenate([linear, linear[:, -1:]], axis=1)
    if linear.shape[2] % 2:
        linear = np.concatenate([linear, linear[:, :, -1:]], axis=2)
    total = linear[:, 0::2, 0::2] + linear[:, 0::2, 1::2]
    total += linear[:, 1::2, 0::2]
    total += linear[:, 1::2, 1::2]
    total *= np.float32(0.25)
    return total


def _positive_xyb(linear: np.ndarray, gray: bool, tiles: Tiles) -> np.ndarray:
    """Linear RGB (N, H, W[, 3]) to positive XYB planes, plane n * components + c on a
    :class:`Tiles` canvas.

    A gray image has L = M = S (each row of the opsin matrix sums to 1), so X' = 0.42 and
    B' = 0.55 everywhere, in both images: those maps are exactly 0 and only Y' is kept."""
    n, height, width = linear.shape[:3]
    components = 1 if gray else 3
    pixels = linear.reshape(n * height * width, -1)
    flat = np.empty((components, len(pixels)), np.float32)
    for start in range(0, len(pixels), CHUNK):
        chunk = pixels[start:start + CHUNK]
        flat[:, start:start + len(chunk)] = _gray_xyb(chunk[:, 0]) if gray else _xyb(chunk)
    planes = flat.reshape(components, n, height, width).transpose(1, 0, 2, 3)
    return tiles.place(planes.reshape(n * components, height, width))


def _xyb(rgb: np.ndarray) -> np.ndarray:
    """(k, 3) linear RGB to (3, k) X', Y', B' (libjxl's LinearRGBToXYB and MakePositiveXYB)."""
    mixed = rgb @ OPSIN.T
    mixed += OPSIN_BIAS
    np.maximum(mixed, 0.0, out=mixed)
    cone = _cbrt(mixed)
    cone -= CBRT_BIAS
    long, medium, short = cone[:, 0], cone[:, 1], cone[:, 2]
    out = np.empty((3, len(rgb)), np.float32)
    np.subtract(long, medium, out=out[0])
    out[0] *= np.float32(7.0)  # 14 * X, X = (L - M) / 2
    out[0] += np.float32(0.42)
    y = long + medium
    y *= np.float32(0.5)
    np.add(y, np.float32(0.01), out=out[1])
    np.subtract(short, y, out=out[2])
    out[2] += np.float32(0.55)
    return out


def _gray_xyb(v: np.ndarray) -> np.ndarray:
    """(k,) linear gray to (1, k) Y' (L = M = v)."""
    y = _cbrt(v + OPSIN_BIAS)
    y += np.float32(0.01) - CBRT_BIAS
    return y[None]


def _cbrt(x: np.ndarray) -> np.ndarray:
    """Cube root of positive float32, to ~3 ulp like libjxl's own CubeRootAndAdd (3.3 ulp):
    a bit-level first guess and two Halley steps; numpy's cbrt costs ~5x more here."""
    y = (x.view(np.int32) // 3 + np.int32(709921077)).view(np.float32)
    for _ in range(2):
        cube = y * y
        cube *= y
        numerator = cube + x
        numerator += x
        cube += cube
        cube += x
        y *= numerator
        y /= cube
    return y


def _scale_features(img1: np.ndarray, img2: np.ndarray, tiles: Tiles, images: int) -> np.ndarray:
    """The 18 norms of one scale, (N, 3 components, 2 norms, 3 maps), from two XYB canvases;
    components a gray image does not have are 0.

    Four blurs per component, not the tool's five: its sigma1^2 + sigma2^2 needs only
    blur(x^2 + y^2), the same sum by linearity (and identical images still give exactly 0)."""
    squares = img1 * img1
    squares += img2 * img2
    s_sum, s12 = tiles.interior(tiles.blur(squares)), tiles.interior(tiles.blur(img1 * img2))
    mu1, mu2 = tiles.interior(tiles.blur(img1)), tiles.interior(tiles.blur(img2))
    img1, img2 = tiles.interior(img1), tiles.interior(img2)
    sums = np.zeros((tiles.rows, tiles.per_row, 3, 2))
    for block in _blocks(tiles):
        m1, m2 = mu1[block], mu2[block]
        _add_norms(sums[block[0], :, 0], _ssim_error(m1, m2, s_sum[block], s12[block]))
        ringing, blurring = _edge_errors(img1[block], m1, img2[block], m2)
        _add_norms(sums[block[0], :, 1], ringing)
        _add_norms(sums[block[0], :, 2], blurring)
    sums /= tiles.height * tiles.width
    sums[..., 1] = np.sqrt(np.sqrt(sums[..., 1]))
    components = tiles.planes // images
    per_plane = tiles.per_plane(sums).reshape(images, components, 3, 2).transpose(0, 1, 3, 2)
    out = np.zeros((images, 3, 2, 3))
    out[:, slice(None) if components == 3 else slice(1, 2)] = per_plane
    return out


def _blocks(tiles: Tiles):
    """(tile-row slice, row slice) blocks of the canvas interior of about :data:`CHUNK` pixels:
    several rows of small tiles at a time, or a band of rows of large ones."""
    row_pixels = tiles.per_row * tiles.width
    if tiles.height * row_pixels >= CHUNK:
        band = max(1, CHUNK // row_pixels)
        for tile_row in range(tiles.rows):
            for row in range(0, tiles.height, band):
                yield slice(tile_row, tile_row + 1), slice(row, row + band)
    else:
        group = CHUNK // (tiles.height * row_pixels)
        for tile_row in range(0, tiles.rows, group):
            yield slice(tile_row, tile_row + group), slice(None)


def _add_norms(sums: np.ndarray, error: np.ndarray) -> None:
    """Add each plane's sum of the map and of its 4th power (float64) to ``sums`` (tile rows,
    tiles per row, 2); ``error`` is (tile rows, H, tiles per row, W)."""
    sums[..., 0] += error.sum(axis=(1, 3), dtype=np.float64)
    error *= error
    sums[..., 1] += np.einsum("arcb,arcb->ac", error, error, dtype=np.float64)


def _ssim_error(mu1, mu2, s_sum, s12) -> np.ndarray:
    """1 - SSIM' per pixel, clipped at 0: SSIM without the luminance term's denominator
    (num_m = 1 - (mu1 - mu2)^2), as libjxl's SSIMMap; ``s_sum`` = blur(x^2 + y^2)."""
    num_s = s12 - mu1 * mu2
    num_s *= np.float32(2.0)
    num_s += C2
    denom_s = mu1 * mu1
    denom_s += mu2 * mu2
    np.subtract(s_sum, denom_s, out=denom_s)
    denom_s += C2
    diff = mu1 - mu2
    diff *= diff
    np.subtract(np.float32(1.0), diff, out=diff)
    diff *= num_s
    diff /= denom_s
    np.subtract(np.float32(1.0), diff, out=diff)
    np.maximum(diff, 0.0, out=diff)
    return diff


def _edge_errors(img1, mu1, img2, mu2) -> tuple[np.ndarray, np.ndarray]:
    """libjxl's EdgeDiffMap: d = (1 + |img2 - mu2|) / (1 + |img1 - mu1|) - 1, written as
    (|img2 - mu2| - |img1 - mu1|) / (1 + |img1 - mu1|) so float32 loses nothing to the "- 1";
    ringing = max(d, 0), blurring = max(-d, 0)."""
    detail1 = img1 - mu1
    np.abs(detail1, out=detail1)
    d = img2 - mu2
    np.abs(d, out=d)
    d -= detail1
    detail1 += np.float32(1.0)
    d /= detail1
    return np.maximum(d, 0.0), np.maximum(-d, 0.0)


def _score(features: np.ndarray) -> np.ndarray:
    """libjxl's Msssim::Score over (N, scales, 3, 2, 3) norms. Its weights are taken in order
    over the scales actually computed, so an image with fewer than six scales uses the first
    weights of the table for each component (as the tool does)."""
    n = len(features)
    ordered = features.transpose(0, 2, 1, 3, 4).reshape(n, -1)  # component, scale, norm, map
    total = np.abs(ordered) @ WEIGHTS[:ordered.shape[1]]
    total *= 0.9562382616834844
    total = 2.326765642916932 * total - 0.020884521182843837 * total * total \
        + 6.248496625763138e-05 * total * total * total
    with np.errstate(invalid="ignore"):
        return np.where(total > 0, 100.0 - 10.0 * np.abs(total) ** 0.6276336467831387, 100.0)

"""``flip``: NVIDIA's FLIP, the mean of its per-pixel perceptual difference map (LDR-FLIP).

FLIP (Andersson et al., "FLIP: A Difference Evaluator for Alternating Images", HPG 2020)
models what a viewer notices when flipping between two images: colour differences after a
contrast-sensitivity filter in a perceptual colour space, and edge and point features, per
pixel in 0..1. This plugin reports the mean of that map as NVIDIA's official package
``flip-evaluator`` computes it (``evaluate(reference, test, "LDR")``): 0 for identical images,
lower is better.

- Input: 8-bit sRGB, scaled to 0..1 (LDR-FLIP takes sRGB); a gray image is R = G = B.
- Viewing condition: FLIP's default of 67.02 pixels per degree of visual angle, a 0.7 m wide
  3840-pixel display seen from 0.7 m. At that density a 28x28 digit spans under half a
  degree: FLIP judges it as the small thing it is on such a screen, not enlarged.
- No minimum size: FLIP's filters run on any image (down to 1x1), so there is no NaN rule.
- Cost: ~3 s of CPU per megapixel (docs/metrics.md), so it is optional: measured only with
  ``--metrics-extra flip``; installed with ``pip install 'compbench[perceptual]'``.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from compbench import Availability, Better, Metric, hookimpl

#: the package and the extra that installs it
PACKAGE, MODULE, EXTRA = "flip-evaluator", "flip_evaluator", "'compbench[perceptual]'"


def flip_available() -> Availability:
    """Installed or not, without importing it (``compbench list`` stays fast)."""
    try:
        found = importlib.util.find_spec(MODULE) is not None
    except (ImportError, ValueError):  # a module entry without a spec: not importable either
        found = False
    if not found:
        return Availability.missing_module(MODULE, EXTRA)
    return Availability(True)


def mean_flip(originals, reconstructions) -> np.ndarray:
    """Mean LDR-FLIP error of each image pair of a batch, (N, H, W) gray or (N, H, W, 3) RGB
    uint8, as ``flip_evaluator.evaluate(original, reconstruction, "LDR")`` returns it."""
    x, y = _as_rgb(originals), _as_rgb(reconstructions)
    if x.shape != y.shape:
        raise ValueError(f"originals {x.shape} and reconstructions {y.shape} differ in shape")
    import flip_evaluator  # an extra: imported only when measured

    return np.array([flip_evaluator.evaluate(a.astype(np.float32) / 255, b.astype(np.float32) / 255, "LDR",
                                             applyMagma=False)[1] for a, b in zip(x, y)], dtype=np.float64)


def _as_rgb(images) -> np.ndarray:
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"FLIP takes uint8 images, got {images.dtype}")
    if images.ndim == 4 and images.shape[3] == 1:
        images = images[..., 0]
    if images.ndim == 3:  # gray: FLIP reads three sRGB channels
        return np.repeat(images[..., None], 3, axis=3)
    if images.ndim != 4 or images.shape[3] != 3:
        raise ValueError(f"FLIP takes (N, H, W) gray or (N, H, W, 3) RGB images, got {images.shape}")
    return images


FLIP = Metric(
    "flip", "FLIP", "", Better.LOWER, fmt=".4f", optional=True, compute=mean_flip, available=flip_available,
    # lower is better: not offered as an RD y-axis, whose BD figures take higher as better
    quality_axis=False,
    description="mean LDR-FLIP error (NVIDIA flip-evaluator, sRGB input, gray as R = G = B) at "
                "FLIP's default 67 pixels per degree (a 0.7 m wide 4K display at 0.7 m): 0 for "
                "identical images, up to 1; lower is better",
)


@hookimpl
def register_metrics(register):
    register(FLIP)

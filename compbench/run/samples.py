"""What a worker keeps of a sample image's reconstruction (the images the figures and the
report show): the 1:1 crop of the image's most detailed region, the same region for every
codec, not the whole image. A photograph's reconstructions would otherwise travel to the run
and stay there for every setting (7 MB a setting for scikit-image's photographs, 72 MB per
sample of a 24-megapixel one); an image no larger than the crop is kept whole.

The region is the one with the most detail in the original (the largest sum of squared luma
gradients), found from the original alone, so a worker and the run find the same one.
"""

from __future__ import annotations

import numpy as np

#: side of a crop in pixels: six of them side by side fit a 1366-px screen
CROP = 192


def detail_box(image: np.ndarray, side: int = CROP) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the ``side`` x ``side`` window with the most detail,
    searched on a grid of quarter-window steps (the whole image when it is not larger)."""
    height, width = image.shape[:2]
    h, w = min(side, height), min(side, width)
    if (h, w) == (height, width):
        return 0, 0, height, width
    luma = np.asarray(image, dtype=np.float32)
    if luma.ndim == 3:
        luma = luma[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    energy = np.zeros((height, width), dtype=np.float64)
    energy[:, 1:] += np.diff(luma, axis=1) ** 2
    energy[1:, :] += np.diff(luma, axis=0) ** 2
    integral = np.pad(energy.cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    tops = np.unique(np.r_[np.arange(0, height - h, max(1, h // 4)), height - h])
    lefts = np.unique(np.r_[np.arange(0, width - w, max(1, w // 4)), width - w])
    t, left = np.meshgrid(tops, lefts, indexing="ij")
    sums = integral[t + h, left + w] - integral[t, left + w] - integral[t + h, left] + integral[t, left]
    best = np.unravel_index(int(np.argmax(sums)), sums.shape)  # the first on a tie: deterministic
    return int(tops[best[0]]), int(lefts[best[1]]), h, w


def crop(image: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    top, left, height, width = box
    return np.asarray(image)[top : top + height, left : left + width]

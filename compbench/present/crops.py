"""1:1 crops of the same region of an image and of its reconstructions, for comparisons that a
thumbnail would hide: a photograph shrunk to 120 px shows neither ringing nor blocking.

The region is the one with the most detail in the original (the largest sum of squared luma
gradients), chosen once per image and used for every codec, so the crops show the same pixels.
An image no larger than the crop is shown whole.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

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


def png_uri(image: np.ndarray) -> str:
    """An image (uint8 gray or RGB) as a lossless PNG ``data:`` URI: no artifacts of its own."""
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG", optimize=False, compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def zoom_for(side: int) -> int:
    """Whole-number enlargement that shows a small crop (a 28-px digit) at about 112 px or more;
    1 for crops of photographs (1:1)."""
    return max(1, 112 // max(1, side)) if side < 96 else 1

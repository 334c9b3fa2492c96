"""1:1 crops of the same region of an image and of its reconstructions, for comparisons that a
thumbnail would hide: a photograph shrunk to 120 px shows neither ringing nor blocking.

The region is the one with the most detail in the original (the largest sum of squared luma
gradients), chosen once per image and used for every codec, so the crops show the same pixels.
An image no larger than the crop is shown whole. A run's workers cut the reconstructions
(:mod:`compbench.run.samples`); the originals are cut here, to the same region.
"""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from ..run.samples import CROP, crop, detail_box  # noqa: F401 (the region; workers cut the reconstructions)


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

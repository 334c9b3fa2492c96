"""The images the conformance kit codes: sample content per declared shape, or the caller's.

A codec is tried on every shape it declares (gray and RGB per ``channels``; each of ``sizes``,
or a few odd sizes no smaller than ``min_side``). Images the caller passes (a learned codec
passes the data it was trained for) are used as they are, and for the fidelity checks they
replace the kit's own content, which no digit codec could reproduce.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

#: content of the kit's own images, in order: a digit-like blob, a ramp, noise, a flat image, a
#: one-pixel checkerboard (the highest frequency) and random pixels at the extremes 0 and 255
SAMPLE_NAMES = ("blob", "gradient", "noise", "flat", "checker", "extremes")
#: (H, W) sizes tried when a codec takes any size: square, odd and small, larger and oblong
DEFAULT_SIZES = ((28, 28), (7, 13), (64, 48))


def sample_images(shape: tuple[int, ...] = (28, 28), count: int = len(SAMPLE_NAMES), seed: int = 0) -> np.ndarray:
    """Deterministic uint8 images of one shape, (count, *shape), with the content of
    :data:`SAMPLE_NAMES` in turn. Colour images ((H, W, 3)) get different content in each
    channel, so a codec that drops or swaps channels cannot pass them."""
    return _combine(_planes(shape, seed), shape, count)


#: the kit images a lossy codec at its best setting must reproduce: smooth content (noise and
#: one-pixel patterns, in chroma above all, are beyond any 4:2:0 codec and prove nothing)
SMOOTH_NAMES = ("blob", "gradient", "flat")


def smooth_images(shape: tuple[int, ...] = (28, 28)) -> np.ndarray:
    """The smooth kit images (:data:`SMOOTH_NAMES`), with different content per colour channel."""
    planes = _planes(shape, 0)[[SAMPLE_NAMES.index(name) for name in SMOOTH_NAMES]]
    return _combine(planes, shape, len(SMOOTH_NAMES))


def _planes(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """One gray plane per :data:`SAMPLE_NAMES` entry."""
    height, width = shape[:2]
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    blob = 255 * np.exp(-(((yy - height / 2) ** 2 + (xx - width / 2) ** 2) / (height * 2)))
    gradient = 255 * xx / max(width - 1, 1)
    noise = rng.integers(0, 256, (height, width))
    flat = np.full((height, width), 128)
    checker = 255 * ((yy + xx) % 2)
    extremes = 255 * rng.integers(0, 2, (height, width))
    return np.stack([blob, gradient, noise, flat, checker, extremes]).round().astype(np.uint8)


def _combine(planes: np.ndarray, shape: tuple[int, ...], count: int) -> np.ndarray:
    """Gray: the planes in turn; colour: image i takes planes i, i+1, ... for its channels."""
    kinds = len(planes)
    if len(shape) == 2:
        return planes[np.arange(count) % kinds]
    return np.stack([np.stack([planes[(i + c) % kinds] for c in range(shape[2])], axis=-1)
                     for i in range(count)])


@dataclass(frozen=True)
class ImageGroup:
    """Images of one shape, (N, H, W) or (N, H, W, C), with a name per image for messages."""

    images: np.ndarray
    names: tuple[str, ...]
    #: "kit" for the kit's own content, "your" for the caller's
    origin: str

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    def describe(self, position: int | None = None) -> str:
        """'the noise kit image (RGB 7x13)' or 'the 4 gray 28x28 kit images'."""
        kind = describe_shape(self.shape)
        if position is None:
            return f"the {len(self.images)} {kind} {self.origin} images"
        return f"{self.origin} image {self.names[position]!r} ({kind})"


def describe_shape(shape: tuple[int, ...]) -> str:
    channels = 1 if len(shape) == 2 else shape[2]
    kind = {1: "gray", 3: "RGB"}.get(channels, f"{channels}-channel")
    return f"{kind} {shape[0]}x{shape[1]}"


def group_images(images: np.ndarray | Sequence[np.ndarray], origin: str = "your") -> list[ImageGroup]:
    """The caller's images, (N, H, W[, C]) or a list of arrays of mixed shapes, grouped by shape
    in order of first appearance."""
    if isinstance(images, np.ndarray) and images.ndim == 2:
        images = images[None]  # one gray image
    arrays = [np.asarray(image) for image in images]
    if not arrays:
        raise ValueError("images is empty; pass at least one uint8 image, or None for the kit's own")
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for position, image in enumerate(arrays):
        if image.dtype != np.uint8 or image.ndim not in (2, 3):
            raise ValueError(f"image {position} is {image.dtype} {image.shape}; the kit takes uint8 "
                             "(H, W) gray or (H, W, 3) RGB images")
        by_shape.setdefault(image.shape, []).append(position)
    return [ImageGroup(np.stack([arrays[p] for p in positions]), tuple(f"#{p}" for p in positions), origin)
            for positions in by_shape.values()]


def declared_shapes(channels: Sequence[int], sizes: Sequence[tuple[int, int]] | None, min_side: int,
                    given_sizes: Sequence[tuple[int, int]] = ()) -> list[tuple[int, ...]]:
    """Every (H, W) or (H, W, C) shape a codec declares: its sizes (when it takes any size: the
    sizes of the caller's images, else the kit's default sizes that fit ``min_side``; if none
    fit, one just above it) in each channel count it takes."""
    if sizes is None:
        sizes = list(dict.fromkeys(given_sizes)) or [s for s in DEFAULT_SIZES if min(s) >= min_side] \
            or [(min_side, min_side + 5)]
    shapes = []
    for size in sizes:
        for count in channels:
            shapes.append(tuple(size) if count == 1 else (*size, count))
    return shapes


def kit_groups(shapes: Sequence[tuple[int, ...]], applicable: Callable[[tuple[int, ...]], bool]) -> list[ImageGroup]:
    """The kit's sample images for each shape the codec takes."""
    return [ImageGroup(sample_images(shape), SAMPLE_NAMES, "kit") for shape in shapes if applicable(shape)]


def smooth_groups(groups: Sequence[ImageGroup]) -> list[ImageGroup]:
    """The smooth kit images in the shapes of these groups."""
    return [ImageGroup(smooth_images(group.shape), SMOOTH_NAMES, "kit") for group in groups]

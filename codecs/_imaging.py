"""Shared helpers for codecs that wrap an image library."""

from __future__ import annotations

import importlib.util

import numpy as np

from compbench.codec import AVAILABLE, Availability


def module_availability(module: str, package: str | None = None) -> Availability:
    if importlib.util.find_spec(module) is None:
        return Availability.missing_module(module, package)
    return AVAILABLE


def as_library_image(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W) or (H, W, C), C-contiguous, as the C libraries want it."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim not in (2, 3):
        raise ValueError(f"expected an (H, W) or (H, W, C) image, got shape {image.shape}")
    return np.ascontiguousarray(image)


def restore_shape(decoded: np.ndarray, like_ndim: int) -> np.ndarray:
    """Libraries return (H, W, 1) or (H, W) for grayscale; keep the stored layout consistent."""
    if like_ndim == 2 and decoded.ndim == 3 and decoded.shape[2] == 1:
        return decoded[:, :, 0]
    return decoded

"""Shared helpers for codecs that wrap an image library."""

from __future__ import annotations

import importlib.util

import numpy as np

from compbench import AVAILABLE, Availability, Codec, CodecFactory


def module_availability(module: str, package: str | None = None) -> Availability:
    if importlib.util.find_spec(module) is None:
        return Availability.missing_module(module, package)
    return AVAILABLE


def size_limit(name: str, shape: tuple[int, ...], max_side: int | None = None,
               max_pixels: int | None = None, max_samples: int | None = None) -> str | None:
    """Why an image of this shape is larger than codec ``name`` codes, in one line, or None."""
    height, width = shape[:2]
    pixels = height * width
    samples = pixels * (shape[2] if len(shape) == 3 else 1)
    size = "x".join(map(str, shape))
    if max_side is not None and max(height, width) > max_side:
        return f"{name} codes images up to {max_side} px per side; this one is {size}"
    if max_pixels is not None and pixels > max_pixels:
        return f"{name} codes images of up to {max_pixels} pixels; this one is {size} ({pixels})"
    if max_samples is not None and samples > max_samples:
        return (f"{name} codes images of up to {max_samples} samples (H x W x channels); "
                f"this one is {size} ({samples})")
    return None


class SizeLimits:
    """A CodecFactory mixin declaring the largest images the codec's library takes, so that a
    larger one is reported once as not applicable, with the limit, instead of failing image by
    image. None: no limit short of memory."""

    max_side: int | None = None  #: the longest side, in pixels
    max_pixels: int | None = None  #: the most pixels, H x W
    max_samples: int | None = None  #: the most samples, H x W x channels

    def not_applicable(self, shape: tuple[int, ...]) -> str | None:
        return super().not_applicable(shape) or size_limit(
            self.name, shape, self.max_side, self.max_pixels, self.max_samples)


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


class ImagecodecsCodec(Codec):
    """A codec that is one imagecodecs encode/decode pair; subclasses name the pair and map
    the settings to the encoder's keyword arguments."""

    encoder: str = ""
    decoder: str = ""
    #: the encoder rejects single-channel images: code gray as RGB behind a one-byte flag
    #: (counted in bpp) so the decoder knows to return one plane
    needs_rgb: bool = False

    def encoder_kwargs(self) -> dict:
        return {}

    def output_bound(self, image: np.ndarray) -> int | None:
        """A buffer size for the encoder, when the library's own estimate can be too small."""
        return None

    def encode(self, image: np.ndarray) -> bytes:
        import imagecodecs

        image = as_library_image(image)
        flag = b""
        if self.needs_rgb:
            flag = GRAY_AS_RGB if image.ndim == 2 else AS_IS
            if image.ndim == 2:
                image = np.repeat(image[:, :, None], 3, axis=2)
        kwargs = self.encoder_kwargs()
        bound = self.output_bound(image)
        if bound is not None:
            kwargs["out"] = bound
        return flag + bytes(getattr(imagecodecs, self.encoder)(image, **kwargs))

    def decode(self, data: bytes) -> np.ndarray:
        import imagecodecs

        flag, payload = (data[:1], data[1:]) if self.needs_rgb else (AS_IS, data)
        decoded = getattr(imagecodecs, self.decoder)(payload)
        if flag == GRAY_AS_RGB:
            return np.ascontiguousarray(decoded[:, :, 0])  # the planes carry one gray image
        return restore_shape(decoded, 2)

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        return 1 if self.needs_rgb else 0


GRAY_AS_RGB, AS_IS = b"\x01", b"\x00"


def imagecodecs_availability(encoder: str) -> Availability:
    """imagecodecs is installed and built with this codec."""
    missing = module_availability("imagecodecs")
    if not missing.ok:
        return missing
    import imagecodecs

    name = encoder.split("_")[0].upper()
    codec = getattr(imagecodecs, name, None)
    if codec is None or not getattr(codec, "available", False):
        return Availability(False, f"this imagecodecs build has no {name} support",
                            "pip install --force-reinstall imagecodecs (a wheel from PyPI includes it)")
    return AVAILABLE


class ImagecodecsFactory(SizeLimits, CodecFactory):
    """The factory of a codec built on imagecodecs: availability and versions come from the
    codec class's ``encoder`` (an imagecodecs function name); subclasses declare name, params,
    ladder and size limits."""

    codec_class: type[Codec] = ImagecodecsCodec

    def available(self) -> Availability:
        return imagecodecs_availability(self.codec_class.encoder)

    def create(self, **settings) -> Codec:
        return self.codec_class(**settings)

    def library_versions(self) -> dict[str, str]:
        import imagecodecs

        library = self.codec_class.encoder.split("_")[0]
        return {"imagecodecs": imagecodecs.__version__,
                library: str(getattr(imagecodecs, f"{library}_version")())}

"""JPEG (libjpeg-turbo through imagecodecs)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from compbench import Codec, CodecFactory, Param, hookimpl

from ._imaging import SizeLimits, as_library_image, module_availability


class JpegCodec(Codec):
    def encode(self, image: np.ndarray) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.jpeg_encode(as_library_image(image), level=self.settings["quality"],
                                             subsampling=self.settings["subsampling"]))

    def decode(self, data: bytes) -> np.ndarray:
        import imagecodecs

        return imagecodecs.jpeg_decode(data)

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        # SOF's fields have fixed sizes: the header depends on the shape through its channels
        # only, so a small blank image stands for every size (a folder of photographs has as
        # many shapes as photographs: each would cost a full-size blank image's coding)
        return _jpeg_header_bytes((16, 16, *tuple(shape)[2:]), self.settings["quality"], self.settings["subsampling"])


@lru_cache(maxsize=64)
def _jpeg_header_bytes(shape: tuple[int, ...], quality: int, subsampling: str) -> int:
    """Everything before the entropy-coded scan (SOI, tables, SOF, SOS) plus EOI.

    These bytes are the same for every image of this shape and quality, so a container
    could share them.
    """
    import imagecodecs

    stream = bytes(imagecodecs.jpeg_encode(np.zeros(shape, np.uint8), level=quality, subsampling=subsampling))
    sos = stream.find(b"\xff\xda")
    sos_length = int.from_bytes(stream[sos + 2 : sos + 4], "big")
    return sos + 2 + sos_length + 2  # header through SOS segment, plus the 2-byte EOI


class JpegFactory(SizeLimits, CodecFactory):
    name = "jpeg"
    description = "JPEG baseline (libjpeg-turbo via imagecodecs)"
    params = (
        Param("quality", int, 75, "libjpeg quality factor", low=1, high=100),
        Param("subsampling", str, "420", "chroma subsampling of colour images (gray has no chroma)",
              choices=("444", "422", "420")),
    )
    rate_params = ("quality",)
    # Quality 1 is libjpeg's lowest rate. The ladder holds quality only: a sweep keeps the
    # subsampling given (4:2:0 by default) at every point, since --sweep merges each point with
    # the given parameters, so one curve is one codec. At high rates full-resolution chroma wins
    # (scikit-image's photographs, pooled: 4:2:0 tops out at 43.3 dB for 4.68 bpp at quality 100,
    # 4:4:4 gives 45.0 dB for 2.99 bpp at 95): sweep jpeg:subsampling=444 as well for that end.
    ladder = tuple({"quality": q} for q in (1, 5, 10, 20, 30, 50, 70, 85, 90, 95, 100))
    channels = (1, 3)
    max_side = 65535  # JPEG's 16-bit sizes; libjpeg-turbo as imagecodecs builds it takes them all

    def available(self):
        return module_availability("imagecodecs")

    def create(self, **settings) -> Codec:
        return JpegCodec(**settings)

    def library_versions(self) -> dict[str, str]:
        import imagecodecs

        return {"imagecodecs": imagecodecs.__version__, "libjpeg": str(imagecodecs.jpeg8_version())}


@hookimpl
def register_codecs(register):
    register(JpegFactory())

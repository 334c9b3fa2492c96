"""JPEG (libjpeg-turbo through imagecodecs)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from compbench import Codec, CodecFactory, Param, hookimpl

from ._imaging import as_library_image, module_availability


class JpegCodec(Codec):
    def encode(self, image: np.ndarray) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.jpeg_encode(as_library_image(image), level=self.settings["quality"],
                                             subsampling=self.settings["subsampling"]))

    def decode(self, data: bytes) -> np.ndarray:
        import imagecodecs

        return imagecodecs.jpeg_decode(data)

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        return _jpeg_header_bytes(tuple(shape), self.settings["quality"], self.settings["subsampling"])


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


class JpegFactory(CodecFactory):
    name = "jpeg"
    description = "JPEG baseline (libjpeg-turbo via imagecodecs)"
    params = (
        Param("quality", int, 75, "libjpeg quality factor", low=1, high=100),
        Param("subsampling", str, "420", "chroma subsampling of colour images (gray has no chroma)",
              choices=("444", "422", "420")),
    )
    rate_params = ("quality",)
    # Quality 1 is libjpeg's lowest rate. At high rates full-resolution chroma wins (on the
    # photographs 4:4:4 at quality 90 beats 4:2:0 at 95 in both bpp and PSNR, and 4:2:0 stops near
    # 40 dB), so the top of the ladder switches to 4:4:4, as photo encoders do.
    ladder = (*({"quality": q} for q in (1, 5, 10, 20, 30, 50, 70, 85)),
              *({"quality": q, "subsampling": "444"} for q in (90, 95, 100)))
    channels = (1, 3)

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

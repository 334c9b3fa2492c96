"""``zstd``: the general-purpose compressor on raw pixels, the floor an image codec must beat.

It sees the pixels as a byte string (row-major H, W, C) behind the raw-pixel shape header: no
prediction, no colour transform, only zstd's own matching and entropy coding.
"""

from compbench import Param, hookimpl

from ._imaging import ImagecodecsFactory
from ._rawpixels import RawPixelsCodec


class ZstdCodec(RawPixelsCodec):
    encoder = "zstd_encode"

    def pack(self, pixels: bytes) -> bytes:
        import imagecodecs

        return bytes(imagecodecs.zstd_encode(pixels, level=self.settings["level"]))

    def unpack(self, payload):
        import imagecodecs

        return imagecodecs.zstd_decode(payload)


class ZstdFactory(ImagecodecsFactory):
    codec_class = ZstdCodec
    name = "zstd"
    description = "zstd on the raw pixel bytes behind a shape header: the floor a real codec must beat"
    params = (Param("level", int, 19, "zstd level (1 fast .. 22 small)", low=1, high=22),)
    channels = (1, 3)
    lossless = True  # no size limit short of memory, as for ``none``


@hookimpl
def register_codecs(register):
    register(ZstdFactory())

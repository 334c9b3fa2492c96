"""``none``: the raw pixels behind a shape header, no compression (8 bpp per channel plus the header).

Running ``none`` measures the harness's own overhead, so it does as little as it can.
"""

from compbench import CodecFactory, hookimpl

from ._rawpixels import RawPixelsCodec


class NoneFactory(CodecFactory):
    name = "none"
    description = "pass-through: raw pixels behind a 3-5 byte shape header (8 bpp per channel)"
    channels = (1, 3)
    lossless = True

    def create(self, **settings) -> RawPixelsCodec:
        return RawPixelsCodec(**settings)


@hookimpl
def register_codecs(register):
    register(NoneFactory())

"""PNG (libpng through imagecodecs), lossless."""

from compbench import Param, hookimpl

from ._imaging import ImagecodecsCodec, ImagecodecsFactory


class PngCodec(ImagecodecsCodec):
    encoder, decoder = "png_encode", "png_decode"

    def encoder_kwargs(self) -> dict:
        return {"level": self.settings["level"]}


class PngFactory(ImagecodecsFactory):
    codec_class = PngCodec
    name = "png"
    description = "PNG, lossless (libpng via imagecodecs); gray stays one channel"
    params = (Param("level", int, 6, "zlib level (0 stored .. 9 smallest; 6 is libpng's default)", low=0, high=9),)
    channels = (1, 3)
    max_side = 1_000_000  # libpng's default user limits, which it applies to writing too
    lossless = True


@hookimpl
def register_codecs(register):
    register(PngFactory())

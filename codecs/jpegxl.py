"""JPEG XL (libjxl through imagecodecs): lossy by Butteraugli distance, and lossless as a codec
of its own, so the lossy one is a rate curve and the lossless one a single point."""

from compbench import Param, hookimpl

from ._imaging import ImagecodecsCodec, ImagecodecsFactory


class JpegXlCodec(ImagecodecsCodec):
    encoder, decoder = "jpegxl_encode", "jpegxl_decode"

    def encoder_kwargs(self) -> dict:
        # without a distance (or level) libjxl codes losslessly
        return {"distance": self.settings["distance"], "effort": self.settings["effort"], "numthreads": 1}


class JpegXlLosslessCodec(JpegXlCodec):
    def encoder_kwargs(self) -> dict:
        return {"lossless": True, "effort": self.settings["effort"], "numthreads": 1}


EFFORT = Param("effort", int, 7, "encoder effort (1 fast .. 9 small)", low=1, high=9)
#: the format's own limit (codestream level 10; libjxl moves to level 10 by itself past level 5's
#: 2**18): JxlEncoderSetBasicInfo refuses a larger side
MAX_SIDE = 2**30


class JpegXlFactory(ImagecodecsFactory):
    codec_class = JpegXlCodec
    name = "jpegxl"
    description = "JPEG XL (libjxl via imagecodecs); rate by Butteraugli distance (lower = better)"
    params = (
        Param("distance", float, 1.0, "Butteraugli distance (0.1 near-lossless .. 25 coarse)",
              low=0.1, high=25),
        EFFORT,
    )
    rate_params = ("distance",)
    ladder = tuple({"distance": d} for d in (25, 15, 10, 6, 4, 2.5, 1.5, 1.0, 0.5, 0.25, 0.1))
    channels = (1, 3)
    max_side = MAX_SIDE


class JpegXlLosslessFactory(ImagecodecsFactory):
    codec_class = JpegXlLosslessCodec
    name = "jpegxl-lossless"
    description = "JPEG XL lossless (libjxl modular mode via imagecodecs)"
    params = (EFFORT,)
    channels = (1, 3)
    max_side = MAX_SIDE
    lossless = True


@hookimpl
def register_codecs(register):
    register(JpegXlFactory())
    register(JpegXlLosslessFactory())

"""JPEG XL (libjxl through imagecodecs), lossy by Butteraugli distance."""

from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.params import Param

from ._imaging import ImagecodecsCodec, ImagecodecsFactory


class JpegXlCodec(ImagecodecsCodec):
    encoder, decoder = "jpegxl_encode", "jpegxl_decode"

    def encoder_kwargs(self) -> dict:
        # without a distance (or level) libjxl codes losslessly
        return {"distance": self.settings["distance"], "effort": self.settings["effort"], "numthreads": 1}


class JpegXlFactory(ImagecodecsFactory):
    codec_class = JpegXlCodec
    name = "jpegxl"
    description = "JPEG XL (libjxl via imagecodecs); rate by Butteraugli distance (lower = better)"
    params = (
        Param("distance", float, 1.0, "Butteraugli distance (0.1 near-lossless .. 25 coarse)",
              low=0.1, high=25),
        Param("effort", int, 7, "encoder effort (1 fast .. 9 small)", low=1, high=9),
    )
    rate_params = ("distance",)
    ladder = tuple({"distance": d} for d in (0.3, 0.6, 1.0, 1.5, 2.5, 4.0, 6.0, 10.0))


@hookimpl
def register_codecs(register):
    register(JpegXlFactory())

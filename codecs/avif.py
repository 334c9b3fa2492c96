"""AVIF (libavif/AV1 through imagecodecs), lossy."""

from compbench import Param, hookimpl

from ._imaging import ImagecodecsCodec, ImagecodecsFactory


class AvifCodec(ImagecodecsCodec):
    encoder, decoder = "avif_encode", "avif_decode"
    # imagecodecs codes single-channel AVIF losslessly whatever the level (measured: 581 bytes
    # and max error 0 for an MNIST digit at every level), so gray goes in as RGB
    needs_rgb = True

    def encoder_kwargs(self) -> dict:
        # imagecodecs' default level is lossless: always pass the quality
        return {"level": self.settings["quality"], "speed": self.settings["speed"], "numthreads": 1}


class AvifFactory(ImagecodecsFactory):
    codec_class = AvifCodec
    name = "avif"
    description = "AVIF (AV1 intra via libavif/imagecodecs); quality 100 is lossless; gray coded as RGB"
    params = (
        Param("quality", int, 60, "libavif quality (100 = lossless)", low=0, high=100),
        Param("speed", int, 6, "encoder speed (0 slow .. 10 fast)", low=0, high=10),
    )
    rate_params = ("quality",)
    # 0 is libavif's lowest rate, 99 its near-lossless end (100 is lossless)
    ladder = tuple({"quality": q} for q in (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99))
    channels = (1, 3)
    # libavif's decoder defaults (imageDimensionLimit, imageSizeLimit): its encoder writes up to
    # 65536 px per side, but such a file does not decode
    max_side = 32768
    max_pixels = 16384 * 16384


@hookimpl
def register_codecs(register):
    register(AvifFactory())

"""WebP, lossy (libwebp through imagecodecs)."""

from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.params import Param

from ._imaging import ImagecodecsCodec, ImagecodecsFactory


class WebpCodec(ImagecodecsCodec):
    encoder, decoder = "webp_encode", "webp_decode"
    needs_rgb = True  # libwebp codes RGB(A) only

    def encoder_kwargs(self) -> dict:
        # lossless=False is needed for lossy coding; the quality alone does not select it
        return {"level": self.settings["quality"], "lossless": False, "method": self.settings["method"]}


class WebpFactory(ImagecodecsFactory):
    codec_class = WebpCodec
    name = "webp"
    description = "WebP lossy (libwebp via imagecodecs); gray is coded as RGB behind a 1-byte flag"
    params = (
        Param("quality", int, 75, "libwebp quality", low=0, high=100),
        Param("method", int, 4, "speed/size trade-off (0 fast .. 6 small)", low=0, high=6),
    )
    rate_params = ("quality",)
    ladder = tuple({"quality": q} for q in (5, 15, 30, 45, 60, 75, 90, 100))


@hookimpl
def register_codecs(register):
    register(WebpFactory())

"""WebP, lossy and lossless (libwebp through imagecodecs): two codecs, so the lossy one is a
rate curve and the lossless one a single point in tables and plots."""

from compbench import Param, hookimpl

from ._imaging import ImagecodecsCodec, ImagecodecsFactory


class WebpCodec(ImagecodecsCodec):
    encoder, decoder = "webp_encode", "webp_decode"
    needs_rgb = True  # libwebp codes RGB(A) only
    #: lossless=False is needed for lossy coding; the quality alone does not select it
    lossless = False

    def encoder_kwargs(self) -> dict:
        return {"level": self.settings["quality"], "lossless": self.lossless, "method": self.settings["method"]}


class WebpLosslessCodec(WebpCodec):
    lossless = True


METHOD = Param("method", int, 4, "speed/size trade-off (0 fast .. 6 small)", low=0, high=6)
#: imagecodecs refuses a side of libwebp's WEBP_MAX_DIMENSION (16383) itself: it checks side < 16383
MAX_SIDE = 16382


class WebpFactory(ImagecodecsFactory):
    codec_class = WebpCodec
    name = "webp"
    description = "WebP lossy (libwebp via imagecodecs, YUV 4:2:0); gray is coded as RGB behind a 1-byte flag"
    params = (Param("quality", int, 75, "libwebp quality", low=0, high=100), METHOD)
    rate_params = ("quality",)
    # quality 0 is libwebp's lowest rate; 100 is its near-lossless end (4:2:0 caps colour PSNR)
    ladder = tuple({"quality": q} for q in (0, 5, 10, 20, 30, 45, 60, 75, 85, 95, 100))
    channels = (1, 3)
    max_side = MAX_SIDE


class WebpLosslessFactory(ImagecodecsFactory):
    codec_class = WebpLosslessCodec
    name = "webp-lossless"
    description = "WebP lossless (libwebp via imagecodecs); gray is coded as RGB behind a 1-byte flag"
    params = (Param("quality", int, 75, "in lossless mode: compression effort (0 fast .. 100 small)",
                    low=0, high=100), METHOD)
    channels = (1, 3)
    max_side = MAX_SIDE
    lossless = True


@hookimpl
def register_codecs(register):
    register(WebpFactory())
    register(WebpLosslessFactory())

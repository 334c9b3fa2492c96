"""JPEG-LS (CharLS through imagecodecs), lossless."""

from compbench import hookimpl

from ._imaging import ImagecodecsCodec, ImagecodecsFactory

EOI = b"\xff\xd9"


class JpegLsCodec(ImagecodecsCodec):
    # imagecodecs' level is JPEG-LS's NEAR (the largest error allowed): 0 is lossless
    encoder, decoder = "jpegls_encode", "jpegls_decode"

    def encoder_kwargs(self) -> dict:
        return {"level": 0}

    def decode(self, data: bytes):
        # CharLS 2.4 spends seconds (9 s measured on a 28x28 digit) scanning past the end of a
        # cut-short stream before it fails: refuse one without its end-of-image marker at once
        if bytes(data[-2:]) != EOI:
            raise ValueError("JPEG-LS stream is truncated (no end-of-image marker)")
        return super().decode(data)

    def output_bound(self, image):
        # noise expands past the input size, and imagecodecs' buffer then overflows (measured:
        # a 512x512x3 noise image); JPEG-LS codes a sample in at most 2 bytes plus markers
        return 2 * image.nbytes + 1024


class JpegLsFactory(ImagecodecsFactory):
    codec_class = JpegLsCodec
    name = "jpegls"
    description = "JPEG-LS, lossless (CharLS via imagecodecs)"
    channels = (1, 3)
    # no size limit short of memory: measured to 16777217 px per side (CharLS takes 32-bit sizes)
    lossless = True


@hookimpl
def register_codecs(register):
    register(JpegLsFactory())

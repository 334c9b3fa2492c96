"""QOI, the Quite OK Image format (through imagecodecs), lossless."""

from compbench.contracts.hookspecs import hookimpl

from ._imaging import ImagecodecsCodec, ImagecodecsFactory


class QoiCodec(ImagecodecsCodec):
    encoder, decoder = "qoi_encode", "qoi_decode"
    needs_rgb = True  # QOI codes RGB(A) only


class QoiFactory(ImagecodecsFactory):
    codec_class = QoiCodec
    name = "qoi"
    description = "QOI, lossless (via imagecodecs); gray is coded as RGB behind a 1-byte flag"
    channels = (1, 3)
    lossless = True


@hookimpl
def register_codecs(register):
    register(QoiFactory())

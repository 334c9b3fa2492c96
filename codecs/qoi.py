"""QOI, the Quite OK Image format (through imagecodecs), lossless."""

import struct

from compbench import hookimpl

from ._imaging import ImagecodecsCodec, ImagecodecsFactory

#: QOI's header: magic, width, height (big-endian), channels, colour space; then the chunks and an
#: 8-byte end marker. One byte of chunks codes at most 62 pixels (a run).
HEADER = struct.Struct(">4sIIBB")
END_MARKER = 8
PIXELS_PER_BYTE = 62
#: qoi.h refuses, coding and decoding, any height >= QOI_PIXELS_MAX // width: about 400 million pixels
QOI_PIXELS_MAX = 400_000_000


class QoiCodec(ImagecodecsCodec):
    encoder, decoder = "qoi_encode", "qoi_decode"
    needs_rgb = True  # QOI codes RGB(A) only

    def decode(self, data: bytes):
        # a corrupt header can claim a huge image that the decoder then fills for seconds (found
        # by the decoder fuzz test): refuse what the bytes cannot hold, at once
        payload = bytes(data[1:])
        if len(payload) < HEADER.size + END_MARKER or payload[:4] != b"qoif":
            raise ValueError("not a QOI stream (no qoif header)")
        _, width, height, _, _ = HEADER.unpack_from(payload)
        chunks = len(payload) - HEADER.size - END_MARKER
        if width * height > PIXELS_PER_BYTE * max(chunks, 0):
            raise ValueError(f"QOI header claims {width}x{height} pixels, more than {chunks} bytes can hold")
        return super().decode(data)


class QoiFactory(ImagecodecsFactory):
    codec_class = QoiCodec
    name = "qoi"
    description = "QOI, lossless (via imagecodecs); gray is coded as RGB behind a 1-byte flag"
    channels = (1, 3)
    lossless = True

    def not_applicable(self, shape):
        reason = super().not_applicable(shape)
        height, width = shape[:2]
        if reason is None and height >= QOI_PIXELS_MAX // width:  # qoi.h's own test
            reason = (f"qoi codes images of fewer than {QOI_PIXELS_MAX} pixels (height < "
                      f"{QOI_PIXELS_MAX} // width); this one is {'x'.join(map(str, shape))}")
        return reason


@hookimpl
def register_codecs(register):
    register(QoiFactory())

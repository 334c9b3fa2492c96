"""A lossless codec plugin: zlib over raw pixels, with a shape header."""

import struct
import zlib

import numpy as np

from compbench.contracts.codec import Codec, CodecFactory
from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.params import Param

HEADER = struct.Struct("<BHHB")  # ndim, height, width, channels


class ZlibRaw(Codec):
    def encode(self, image):
        channels = image.shape[2] if image.ndim == 3 else 0
        header = HEADER.pack(image.ndim, image.shape[0], image.shape[1], channels)
        return header + zlib.compress(image.tobytes(), self.settings["level"])

    def decode(self, data):
        ndim, height, width, channels = HEADER.unpack_from(data)
        shape = (height, width, channels)[:ndim]
        return np.frombuffer(zlib.decompress(data[HEADER.size:]), np.uint8).reshape(shape).copy()

    def overhead_bytes(self, shape):
        return HEADER.size


class ZlibRawFactory(CodecFactory):
    name = "zlibraw"
    description = "zlib over raw pixels (lossless)"
    params = (Param("level", int, 6, "zlib level", low=0, high=9),)
    rate_params = ("level",)

    def create(self, **settings):
        return ZlibRaw(**settings)


@hookimpl
def register_codecs(register):
    register(ZlibRawFactory())

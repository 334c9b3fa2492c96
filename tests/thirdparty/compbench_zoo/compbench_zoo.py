"""Broken codecs, one fault each, beside an honest one (``zoo-good``).

Faults that strike "some images" pick them by content (:func:`unlucky`), so a test can tell
in advance which images must be recorded as failed and which must come through.
"""

import ctypes
import hashlib
import os
import signal
import struct
import time
import zlib

import numpy as np

from compbench import Codec, CodecFactory, Param, hookimpl

HEADER = struct.Struct("<BHHB")  # ndim, height, width, channels


def unlucky(image: np.ndarray, one_in: int = 16) -> bool:
    """Whether a fault that strikes some images strikes this one (about one in ``one_in``)."""
    return hashlib.md5(np.ascontiguousarray(image).tobytes()).digest()[0] % one_in == 0


def pack(image: np.ndarray) -> bytes:
    channels = image.shape[2] if image.ndim == 3 else 0
    return HEADER.pack(image.ndim, image.shape[0], image.shape[1], channels) + zlib.compress(image.tobytes())


def unpack(data: bytes) -> np.ndarray:
    ndim, height, width, channels = HEADER.unpack_from(data)
    shape = (height, width, channels)[:ndim]
    return np.frombuffer(zlib.decompress(data[HEADER.size:]), np.uint8).reshape(shape).copy()


class ZooCodec(Codec):
    """Lossless zlib on raw pixels with a shape header; ``fault`` says what goes wrong."""

    fault = "none"

    def encode(self, image):
        data = pack(image)
        fault = self.fault
        if fault == "raises" and unlucky(image):
            raise ValueError("zoo-raises refuses this image")
        if fault == "hang" and unlucky(image, self.settings.get("one_in", 64)):
            time.sleep(3600)
        if fault == "segfault" and unlucky(image, self.settings.get("one_in", 64)):
            ctypes.string_at(0)  # reads address 0: SIGSEGV
        if fault == "abort" and unlucky(image, self.settings.get("one_in", 64)):
            os.abort()
        if fault == "oom-kill" and unlucky(image, self.settings.get("one_in", 64)):
            os.kill(os.getpid(), signal.SIGKILL)  # what the OOM killer does
        if fault == "slow":  # honest, but takes its time: lets a test stop a run midway
            time.sleep(self.settings.get("ms", 0) / 1000)
        if fault == "str":
            return data.hex()
        if fault == "ndarray":  # constriction's get_compressed() without .tobytes(): uint32 words
            padded = data + b"\0" * (-len(data) % 4)
            return np.frombuffer(padded, dtype=np.uint32)
        if fault == "nondeterministic":
            return data + os.urandom(1)
        if fault == "not-self-describing":
            self._last_shape = image.shape
            return zlib.compress(image.tobytes())
        return data

    def decode(self, data):
        fault = self.fault
        if fault == "nondeterministic":
            data = data[:-1]
        if fault == "not-self-describing":
            return np.frombuffer(zlib.decompress(data), np.uint8).reshape(self._last_shape).copy()
        image = unpack(bytes(data))
        if fault == "zeros":
            return np.zeros_like(image)
        if fault == "constant":
            return np.full_like(image, 128)
        if fault == "shape":
            return image[:, :-1]
        if fault == "dtype":
            return image.astype(np.float32)
        if fault == "returns-list":
            return image.tolist()
        return image

    def encode_batch(self, images):
        blobs = [self.encode(image) for image in images]
        if self.fault == "batch-differs":
            return [blob + b"\0" for blob in blobs]
        return blobs

    def decode_batch(self, blobs):
        if self.fault == "batch-differs":
            blobs = [blob[:-1] for blob in blobs]
        return [self.decode(blob) for blob in blobs]

    def extra_metrics(self, images):
        if self.fault == "overwrites-metrics":  # tries to pass as perfect and free
            return {"psnr": np.full(len(images), 99.0), "bpp": np.zeros(len(images))}
        return {}

    def overhead_bytes(self, shape):
        return HEADER.size


class ZooFactory(CodecFactory):
    params = (Param("one_in", int, 64, "strike about one image in N (faults that strike some)",
                    low=1, high=1_000_000),)
    channels = (1, 3)
    lossless = True

    def __init__(self, fault: str, description: str) -> None:
        self.fault, self.name, self.description = fault, f"zoo-{fault}", description

    def create(self, **settings):
        if self.fault == "create-raises":
            raise RuntimeError("zoo-create-raises cannot load its model")
        codec = ZooCodec(**settings)
        codec.fault = self.fault
        return codec


class BoundsFactory(ZooFactory):
    """Declares level 0..9 but breaks at its lowest level."""

    params = (Param("level", int, 5, "effort", low=0, high=9),)

    def create(self, **settings):
        if settings["level"] == 0:
            raise ValueError("level 0 is not supported after all")
        return super().create(**settings)


class SlowFactory(ZooFactory):
    """Honest zlib, ``ms`` milliseconds per image."""

    params = (Param("ms", int, 5, "milliseconds per image", low=0, high=60_000),)


FAULTS = {
    "good": "honest lossless zlib on raw pixels",
    "raises": "raises on some images",
    "hang": "hangs on some images",
    "segfault": "segfaults on some images",
    "abort": "aborts on some images",
    "oom-kill": "killed by SIGKILL on some images",
    "str": "encode returns a str",
    "ndarray": "encode returns a uint32 ndarray (len counts words, not bytes)",
    "nondeterministic": "the same image encodes to different bytes",
    "not-self-describing": "decode needs state left by encode",
    "zeros": "decode returns zeros of the right shape",
    "constant": "decode returns a constant image",
    "shape": "decode returns the wrong shape",
    "dtype": "decode returns float32",
    "returns-list": "decode returns a list",
    "batch-differs": "encode_batch gives other bytes than encode",
    "overwrites-metrics": "extra_metrics claims psnr=99 and bpp=0",
    "create-raises": "create() raises",
}


@hookimpl
def register_codecs(register):
    for fault, description in FAULTS.items():
        register(ZooFactory(fault, description))
    bounds = BoundsFactory("bounds", "declares level 0..9 but fails at level 0")
    register(bounds)
    register(SlowFactory("slow", "honest lossless zlib, slowly (ms per image)"))

"""Real runs for the curve tests: two ladders of the same codecs, and a JPEG whose bitstreams are
padded by 5 %, registered in-process in place of the built-in ``jpeg``.

Why padding and not scaling the stored bpp: the padded codec goes through the whole harness
(encode, decode back to the image, bytes counted, summary), so ``bytes``, ``bpp`` and
``bpp_payload`` grow together exactly as a real codec change would make them, and its PSNR is
the built-in JPEG's to the last digit (same settings, same decoded pixels).
"""

from __future__ import annotations

import types

import pytest
from compbench_codecs.jpeg import JpegCodec, JpegFactory

from compbench import api
from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.registry import DISABLE_ENV, build_registry

#: the same two codecs over two ladders that interleave (the same curves, sampled elsewhere)
LADDER_A = "jpeg:quality=10..90/20,jpeg2000:psnr=20..40/5"
LADDER_B = "jpeg:quality=15..95/20,jpeg2000:psnr=22..42/5"
JPEG_LADDER = "jpeg:quality=10..90/20"
IMAGES = 300
PADDING = 0.05
#: JPEG's end-of-image marker: padding goes after it
EOI = b"\xff\xd9"


class PaddedJpeg(JpegCodec):
    """JPEG with 5 % zero bytes appended after its end-of-image marker."""

    def encode(self, image) -> bytes:
        data = super().encode(image)
        return data + bytes(round(PADDING * len(data)))

    def decode(self, data: bytes):
        return super().decode(data[: data.rindex(EOI) + len(EOI)])


class PaddedJpegFactory(JpegFactory):
    description = "JPEG with its bitstream padded by 5 % (a test codec)"

    def create(self, **settings):
        return PaddedJpeg(**settings)


def padded_registry():
    """The installed plugins, with the padded JPEG as ``jpeg`` (the built-in one left out)."""
    plugin = types.SimpleNamespace(register_codecs=hookimpl(lambda register: register(PaddedJpegFactory())))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(DISABLE_ENV, "jpeg")
        return build_registry(extra_plugins=[("padded-jpeg", plugin)])


def run(codecs: str, out, registry=None, **options):
    """A real run written to ``out`` on the first IMAGES MNIST test digits (one worker)."""
    options.setdefault("limit", IMAGES)
    return api.run(codecs, out=out, jobs=1, figures=False, registry=registry, **options)

"""The shape both learned codecs share: images -> integer codes -> bitstreams, all batched.

The networks are fast per batch and slow per call, so the batch methods do the work and one
image is a batch of one (the reverse of the ``Codec`` defaults).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from compbench import Codec


class BatchCodec(Codec):
    """Subclasses give ``quantized_codes`` (images -> integer codes), ``encode_codes`` (codes
    -> bitstreams) and ``decode_batch``."""

    def quantized_codes(self, images: Sequence[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def encode_codes(self, q: np.ndarray) -> list[bytes]:
        raise NotImplementedError

    def encode(self, image: np.ndarray) -> bytes:
        return self.encode_batch([image])[0]

    def decode(self, data: bytes) -> np.ndarray:
        return self.decode_batch([data])[0]

    def encode_batch(self, images: Sequence[np.ndarray]) -> list[bytes]:
        return self.encode_codes(self.quantized_codes(images))

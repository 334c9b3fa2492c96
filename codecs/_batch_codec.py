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

    #: the images of the last ``encode_batch`` call, stacked, and their codes (see ``codes_of``)
    _last_coded: tuple[np.ndarray, np.ndarray] | None = None

    def quantized_codes(self, images: Sequence[np.ndarray]) -> np.ndarray:
        raise NotImplementedError

    def encode_codes(self, q: np.ndarray) -> list[bytes]:
        raise NotImplementedError

    def encode(self, image: np.ndarray) -> bytes:
        return self.encode_batch([image])[0]

    def decode(self, data: bytes) -> np.ndarray:
        return self.decode_batch([data])[0]

    def encode_batch(self, images: Sequence[np.ndarray]) -> list[bytes]:
        codes = self.quantized_codes(images)
        self._last_coded = (np.stack(images), codes)
        return self.encode_codes(codes)

    def codes_of(self, images: np.ndarray) -> np.ndarray:
        """``quantized_codes(images)``, taken from the last ``encode_batch`` when these are its
        images (the harness measures the batch it has just coded: a second pass of the network
        cost ddcae's sweep 0.8 s of CPU, the codec's own coding 3.3 s)."""
        if self._last_coded is not None:
            coded, codes = self._last_coded
            if coded.shape == np.shape(images) and np.array_equal(coded, images):
                return codes
        return self.quantized_codes(images)

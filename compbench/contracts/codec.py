"""The codec contract: a factory per codec family, a codec instance per setting.

Codecs only encode and decode; the harness measures (bytes, timings, metrics) in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .params import Param


@dataclass(frozen=True)
class Availability:
    """Whether a plugin can run here; if not, why and the command that fixes it."""

    ok: bool
    reason: str = ""
    fix: str = ""

    @classmethod
    def missing_module(cls, module: str, package: str | None = None) -> Availability:
        return cls(False, f"Python module {module!r} is not installed",
                   f"pip install {package or module}")


AVAILABLE = Availability(True)


class Codec:
    """One codec at one setting.

    ``encode`` returns self-describing bytes: ``decode`` needs nothing else (the shape goes in
    the bitstream). Reconstructions have the input's shape and dtype (uint8). Learned codecs
    override the batch methods for speed.
    """

    def __init__(self, **settings: Any) -> None:
        self.settings = settings

    def encode(self, image: np.ndarray) -> bytes:
        raise NotImplementedError

    def decode(self, data: bytes) -> np.ndarray:
        raise NotImplementedError

    def encode_batch(self, images: Sequence[np.ndarray]) -> list[bytes]:
        return [self.encode(image) for image in images]

    def decode_batch(self, blobs: Sequence[bytes]) -> list[np.ndarray]:
        return [self.decode(blob) for blob in blobs]

    def overhead_bytes(self, shape: tuple[int, ...]) -> int:
        """Bytes a container could share across images of this shape (tables, headers).

        Used for ``bpp_payload``; 0 when the codec has no shareable header.
        """
        return 0

    def extra_metrics(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Optional per-image metrics only the codec can know (e.g. ``code_entropy`` in bpp)."""
        return {}

    def figure_panels(self, images: np.ndarray) -> dict[str, np.ndarray]:
        """Optional intermediate images for figure grids, e.g. a learned codec's noisy input
        and latent code (the paper's Fig. 6): panel name -> array (N, h, w)."""
        return {}


class CodecFactory:
    """A codec family as registered by a plugin (``register_codecs``).

    Subclasses set the class attributes and implement :meth:`create`. Factories are cheap to
    import and picklable: heavy libraries (torch, weights) load in :meth:`create`.
    """

    name: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    #: parameters that identify an operating point; always shown in the setting label
    rate_params: tuple[str, ...] = ()
    #: default quality ladder for rate sweeps: one dict of settings per point
    ladder: tuple[dict, ...] = ()

    def available(self) -> Availability:
        return AVAILABLE

    def create(self, **settings: Any) -> Codec:
        raise NotImplementedError

    def library_versions(self) -> dict[str, str]:
        """Versions of the libraries behind this codec, for the results manifest."""
        return {}

    def validate(self, settings: dict) -> None:
        """Cross-parameter checks beyond single ranges; raise CompbenchError."""

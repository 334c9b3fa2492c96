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

    Subclasses set the class attributes and either :attr:`codec_class` (the common case) or
    :meth:`create`. Factories are cheap to import and picklable: heavy libraries (torch,
    weights) load in :meth:`create`.
    """

    name: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    #: parameters that identify an operating point; always shown in the setting label
    rate_params: tuple[str, ...] = ()
    #: default quality ladder for rate sweeps: one dict of settings per point
    ladder: tuple[dict, ...] = ()
    #: groups of alternative parameters (a PSNR target or a ratio): at most one of a group may
    #: be given, and giving one unsets the others' defaults before the setting is labelled
    exclusive: tuple[tuple[str, ...], ...] = ()
    #: channel counts it takes: 1 is gray, an (H, W) array; 3 is RGB, an (H, W, 3) array
    channels: tuple[int, ...] = (1,)
    #: the only (H, W) sizes it takes (a learned codec built for 28x28), or None for any size
    sizes: tuple[tuple[int, int], ...] | None = None
    #: the smallest height and width it takes
    min_side: int = 1
    #: every setting reconstructs exactly (PNG, zstd on raw pixels, ...)
    lossless: bool = False
    #: per-image metrics only this codec can give, reported through :meth:`Codec.extra_metrics`
    metrics: tuple = ()
    #: heavy modules every worker of this codec imports (``("torch",)``): a run imports them once,
    #: in the fork server its workers start from, instead of once in every worker
    preload: tuple[str, ...] = ()
    #: the :class:`Codec` subclass the default :meth:`create` builds as ``codec_class(**settings)``
    codec_class: type[Codec] | None = None
    #: for the conformance kit: the setting of highest fidelity, e.g. ``{"quality": 95}``; None:
    #: the kit measures the defaults and every ladder point and takes the best
    best_setting: dict | None = None
    #: for the conformance kit: the pooled PSNR (dB) the best setting reaches on the kit's images
    #: (or those the plugin's tests pass); None: the kit's default (20 dB). Lossless: exact.
    fidelity_floor: float | None = None

    def available(self) -> Availability:
        return AVAILABLE

    def not_applicable(self, shape: tuple[int, ...]) -> str | None:
        """Why the codec cannot take an image of this shape ((H, W) or (H, W, C)), or None.

        The default reads :attr:`channels`, :attr:`sizes` and :attr:`min_side`; override it for
        other limits. The harness asks once per shape, before a run, and skips what does not
        fit with this reason instead of recording an error per image.
        """
        channels = 1 if len(shape) == 2 else shape[2]
        if channels not in self.channels:
            kinds = " or ".join({1: "gray", 3: "RGB"}.get(c, f"{c}-channel") for c in self.channels)
            return f"{self.name} takes {kinds} images, not {channels}-channel ones"
        if self.sizes is not None and tuple(shape[:2]) not in self.sizes:
            sizes = ", ".join(f"{h}x{w}" for h, w in self.sizes)
            return f"{self.name} takes {sizes} images only, not {shape[0]}x{shape[1]}"
        if min(shape[:2]) < self.min_side:
            return f"{self.name} needs images of at least {self.min_side}x{self.min_side}, not {shape[0]}x{shape[1]}"
        return None

    def create(self, **settings: Any) -> Codec:
        """A codec at these settings (resolved: every parameter present, range-checked).

        Called once per setting in each worker process. The default builds
        ``codec_class(**settings)``; override it to load weights or check libraries first.
        """
        if self.codec_class is None:
            raise NotImplementedError(
                f"{type(self).__name__} sets neither codec_class nor create(); set "
                "codec_class = YourCodec, or define create(self, **settings)")
        return self.codec_class(**settings)

    def library_versions(self) -> dict[str, str]:
        """Versions of the libraries behind this codec, for the results manifest."""
        return {}

    def validate(self, settings: dict) -> None:
        """Cross-parameter checks beyond single ranges; raise CompbenchError."""

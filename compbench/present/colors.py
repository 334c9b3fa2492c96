"""One color per codec, the same in every plot of a run and, for the built-ins, of every run:
the static figures (matplotlib) and the report's interactive charts read it from here, which
imports no plotting library."""

from __future__ import annotations

import zlib
from collections.abc import Iterable

#: matplotlib's tab10, a qualitative palette: codecs take its colors
PALETTE_HEX = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
               "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
PALETTE: tuple[tuple[float, float, float], ...] = tuple(
    tuple(int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)) for h in PALETTE_HEX)
#: codecs a reader meets in every report keep the same color in every run
FIXED_COLORS = {"jpeg": 0, "jpeg2000": 1, "ddcae": 2, "webp": 3, "avif": 4, "jpegxl": 5}


def codec_slots(codecs: Iterable[str]) -> dict[str, int]:
    """Codec -> its palette slot. Other codecs than the built-ins take a free slot chosen by a
    stable hash of their name, so their color too depends on the name, not on what else is in
    the run (unless slots run out)."""
    slots: dict[str, int] = {}
    taken = set()
    for name in sorted(set(codecs), key=lambda n: (n not in FIXED_COLORS, n)):
        slot = FIXED_COLORS.get(name)
        if slot is None:
            start = zlib.crc32(name.encode()) % len(PALETTE)
            free = [i for i in range(len(PALETTE)) if i not in taken and i not in FIXED_COLORS.values()]
            free = free or [i for i in range(len(PALETTE)) if i not in taken] or list(range(len(PALETTE)))
            slot = min(free, key=lambda i: (i - start) % len(PALETTE))
        taken.add(slot)
        slots[name] = slot % len(PALETTE)
    return slots


def codec_colors(codecs: Iterable[str]) -> dict[str, tuple[float, float, float]]:
    """Codec -> RGB in 0..1 (matplotlib's form)."""
    return {name: PALETTE[slot] for name, slot in codec_slots(codecs).items()}


def codec_hex(codecs: Iterable[str]) -> dict[str, str]:
    """Codec -> "#rrggbb" (the browser's form)."""
    return {name: PALETTE_HEX[slot] for name, slot in codec_slots(codecs).items()}

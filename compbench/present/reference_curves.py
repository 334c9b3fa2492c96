"""Reference curves (published results, :mod:`compbench.analysis.references`) drawn onto any
matplotlib axes: dashed, in colors no codec takes, labelled "<name> (reference)". The static RD
charts and the comparison plots both draw them with :func:`draw_references`."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..analysis.references import RATE, ReferenceCurve

#: dark colors outside the codecs' tab10 palette, so a reference never looks like a codec
REFERENCE_COLORS = ("0.15", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#e377c2")
REFERENCE_MARKERS = ("x", "+", "1", "2", "3", "4")
#: long dashes: other dashed lines (a new run's curves) use matplotlib's default "--"
REFERENCE_DASHES = (0, (6, 2))


def draw_references(ax, references: Sequence[ReferenceCurve], quality: str, rate: str = RATE) -> list:
    """Draw each reference that has ``quality`` (its points with a finite value, in rate order)
    on ``ax``; returns the lines drawn. Nothing is drawn on a rate axis other than bpp, the
    only rate references give."""
    if rate != RATE:
        return []
    lines = []
    for i, reference in enumerate(references):
        curve = reference.curve(quality)
        if curve is None:
            continue
        x, y = curve
        keep = np.isfinite(x) & np.isfinite(y)
        order = np.argsort(x[keep], kind="stable")
        (line,) = ax.plot(x[keep][order], y[keep][order], linestyle=REFERENCE_DASHES, linewidth=1.3,
                          marker=REFERENCE_MARKERS[i % len(REFERENCE_MARKERS)], markersize=5,
                          color=REFERENCE_COLORS[i % len(REFERENCE_COLORS)], label=reference.label)
        lines.append(line)
    return lines

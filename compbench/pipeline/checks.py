"""Checks of a user's options that need a plugin or a library to answer (figure formats,
table formats, availability)."""

from __future__ import annotations

from ..contracts.errors import CompbenchError
from ..present.table_formats import check_table_format

__all__ = ["check_figure_formats", "check_table_format", "require_available"]


def check_figure_formats(formats) -> None:
    if tuple(formats) == ("png",):  # Agg always writes PNG: no need to load matplotlib (0.4 s) to know
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    unknown = [f for f in formats if f not in supported]
    if unknown or not formats:
        raise CompbenchError(f"unknown figure format {(unknown or [''])[0]!r}; valid: {', '.join(sorted(supported))}")


def require_available(plugin, what: str) -> None:
    status = plugin.available()
    if not status.ok:
        raise CompbenchError(f"{what} is not available: {status.reason}; fix: {status.fix}")

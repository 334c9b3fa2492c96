"""compbench: a plugin-based image-compression benchmark.

Everything a plugin author needs is importable from here; the subpackages are the layers of
the harness (``contracts``, ``run``, ``store``, ``analysis``, ``present``, ``cli``) and internal.

Importing compbench stays cheap (no pandas, matplotlib or torch): plugin modules are imported by
every ``compbench`` command, and the names that need the heavy layers (``load_dataset``,
``line_chart``) import them when called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from ._version import __version__
from .contracts.codec import AVAILABLE, Availability, Codec, CodecFactory
from .contracts.dataset import DatasetAdapter, ImageSet, ImageSource
from .contracts.errors import CompbenchError, PluginError
from .contracts.hookspecs import hookimpl
from .contracts.params import Param, resolve_settings
from .contracts.trainer import Trainer
from .metrics import Aggregate, Better, Metric
from .testing.kit import check_codec

__all__ = [
    "AVAILABLE",
    "Aggregate",
    "Availability",
    "Better",
    "Codec",
    "CodecFactory",
    "CompbenchError",
    "DatasetAdapter",
    "ImageSet",
    "ImageSource",
    "Metric",
    "Param",
    "PluginError",
    "Trainer",
    "__version__",
    "check_codec",
    "hookimpl",
    "line_chart",
    "load_dataset",
    "resolve_settings",
]


def load_dataset(name: str, split: str | None = None, **settings) -> ImageSource:
    """A registered dataset's split (default: its default split), opened with these parameters,
    for a plugin that fits or trains on it: ``load_dataset("mnist", "train").read(range(100))``."""
    from .api import load_dataset as load

    return load(name, split, **settings)


def line_chart(path: str | Path, series: Mapping[str, tuple[Sequence, Sequence]], *, xlabel: str,
               ylabel: str, title: str, log_y: bool = False, xticks: Sequence[str] | None = None,
               styles: Mapping[str, str] | None = None) -> Path:
    """Write a line chart (format from the suffix) and return its path, drawn as compbench draws
    run history, for a trainer's loss curve: one line per series (label -> (x values, y values)),
    non-finite values leave a gap; ``xticks`` names the x positions 0, 1, ...; ``styles`` gives
    a series a matplotlib format string ("s-"). matplotlib is imported when called."""
    from .present.charts import line_chart as draw

    return draw(path, series, xlabel=xlabel, ylabel=ylabel, title=title, log_y=log_y, xticks=xticks,
                styles=styles)

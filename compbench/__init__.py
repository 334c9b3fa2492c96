"""compbench: a plugin-based image-compression benchmark.

Everything a plugin author needs is importable from here; the subpackages are the layers of
the harness (``contracts``, ``run``, ``store``, ``analysis``, ``present``, ``cli``).
"""

__version__ = "0.1.0"

from .contracts.codec import AVAILABLE, Availability, Codec, CodecFactory
from .contracts.dataset import DatasetAdapter, ImageSet, ImageSource
from .contracts.errors import CompbenchError, PluginError
from .contracts.hookspecs import hookimpl
from .contracts.params import Param
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
    "load_dataset",
]


def load_dataset(name: str, split: str | None = None, **settings) -> ImageSource:
    """A registered dataset's split (default: its default split), opened with these parameters,
    for a plugin that fits or trains on it: ``load_dataset("mnist", "train").read(range(100))``."""
    from .api import load_dataset as load

    return load(name, split, **settings)


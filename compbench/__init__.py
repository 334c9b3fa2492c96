"""compbench: a plugin-based image-compression benchmark.

Everything a plugin author needs is importable from here; the subpackages are the layers of
the harness (``contracts``, ``run``, ``store``, ``analysis``, ``present``, ``cli``).
"""

__version__ = "0.1.0"

from .contracts.codec import AVAILABLE, Availability, Codec, CodecFactory
from .contracts.dataset import DatasetAdapter, ImageSet
from .contracts.errors import CompbenchError, PluginError
from .contracts.hookspecs import hookimpl
from .contracts.params import Param
from .contracts.trainer import Trainer

__all__ = [
    "AVAILABLE",
    "Availability",
    "Codec",
    "CodecFactory",
    "CompbenchError",
    "DatasetAdapter",
    "ImageSet",
    "Param",
    "PluginError",
    "Trainer",
    "__version__",
    "hookimpl",
]

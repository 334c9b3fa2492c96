"""``compbench.errors``, the 0.1 home of the exceptions: deprecated, removed in 0.3.0.
Import them from ``compbench``."""

from ._deprecation import deprecated_getattr, to_root

_MOVES = to_root("CompbenchError", "PluginError")
__all__ = sorted(_MOVES)
__getattr__ = deprecated_getattr(__name__, _MOVES)

"""``compbench.params``, the 0.1 home of ``Param``: deprecated, removed in 0.3.0. Import its
names from ``compbench``."""

from ._deprecation import deprecated_getattr, to_root

_MOVES = to_root("Param", "resolve_settings")
__all__ = sorted(_MOVES)
__getattr__ = deprecated_getattr(__name__, _MOVES)

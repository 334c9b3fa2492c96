"""``compbench.training``, the 0.1 home of the trainer contract: deprecated, removed in 0.3.0.
Import ``Trainer`` from ``compbench``."""

from ._deprecation import deprecated_getattr, to_root

_MOVES = to_root("Trainer")
__all__ = sorted(_MOVES)
__getattr__ = deprecated_getattr(__name__, _MOVES)

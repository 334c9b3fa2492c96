"""``compbench.plugins``, the 0.1 home of plugin loading: deprecated, removed in 0.3.0. The
registry is internal to the harness and has no public replacement."""

from ._deprecation import deprecated_getattr, internal

_MOVES = internal("plugin loading is internal: `compbench list` shows what registered, "
                 "compbench.check_codec tests a codec",
                 "compbench.contracts.registry",
                 "DISABLE_ENV", "ENTRY_POINT_GROUP", "Provenance", "Registered", "Registry",
                 "build_registry", "make_plugin_manager")
__all__ = sorted(_MOVES)
__getattr__ = deprecated_getattr(__name__, _MOVES)

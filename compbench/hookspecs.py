"""``compbench.hookspecs``, the 0.1 home of the hooks: deprecated, removed in 0.3.0. A plugin
needs only ``hookimpl``, from ``compbench``; the hooks are documented in docs/plugins.md."""

from ._deprecation import deprecated_getattr, internal, to_root

_MOVES = {
    **to_root("hookimpl"),
    **internal("a plugin needs only hookimpl, from compbench (the hooks: docs/plugins.md)",
               "compbench.contracts.hookspecs",
               "hookspec", "register_codecs", "register_datasets", "register_trainers"),
}
__all__ = sorted(_MOVES)
__getattr__ = deprecated_getattr(__name__, _MOVES)

"""The 0.1 import paths, kept for one minor version: each old name still resolves to the object
that replaced it, with a ``DeprecationWarning`` naming the import to use instead.

The warning is given when a name is looked up (a module ``__getattr__``), not when the module is
imported: it then points at the plugin's own line (an import-time warning is attributed to
importlib's frames, where Python's default filters hide it), it can name each name's own
replacement, and the same helper serves ``compbench.metrics``, a live package lending old names.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

SINCE = "0.2.0"
REMOVED_IN = "0.3.0"

#: old name -> ("module:attribute" where the object lives now, what to do instead)
Moves = Mapping[str, tuple[str, str]]


def to_root(*names: str) -> dict[str, tuple[str, str]]:
    """Moves for names that ``compbench`` itself exports now."""
    return {name: (f"compbench:{name}", f"import {name} from compbench") for name in names}


def internal(advice: str, home: str, *names: str) -> dict[str, tuple[str, str]]:
    """Moves for names with no public replacement: lent from their internal ``home`` until
    removed, with ``advice`` saying what a plugin does instead."""
    return {name: (f"{home}:{name}", advice) for name in names}


def deprecated_getattr(module: str, moves: Moves, *, whole_module: bool = True) -> Callable[[str], Any]:
    """A module ``__getattr__`` lending the ``moves`` names, each with a warning.

    The warning names the module when the whole module goes away (``compbench.errors``), and
    the name when only some of a live module's names do (``compbench.metrics.image_metrics``).
    """

    def __getattr__(name: str) -> Any:
        if name not in moves:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        target, advice = moves[name]
        subject = module if whole_module else f"{module}.{name}"
        # stacklevel 2: the caller's line, also for `from module import name`
        warnings.warn(f"{subject} is deprecated since {SINCE} and will be removed in {REMOVED_IN}; {advice}",
                      DeprecationWarning, stacklevel=2)
        home, _, attribute = target.partition(":")
        return getattr(importlib.import_module(home), attribute)

    return __getattr__

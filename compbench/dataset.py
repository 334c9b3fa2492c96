"""``compbench.dataset``, the 0.1 home of the dataset contract: deprecated, removed in 0.3.0.
Import its names from ``compbench``."""

from ._deprecation import deprecated_getattr, to_root

_MOVES = {
    **to_root("DatasetAdapter", "ImageSet"),
    # 0.1's select, kept as it was below (a private name, so that looking it up warns)
    "select": ("compbench.dataset:_select", "select images with ImageSet.take(positions)"),
}
__all__ = sorted(_MOVES)
__getattr__ = deprecated_getattr(__name__, _MOVES)


def _select(data, limit: int | None = None, per_class: int | None = None):
    """0.1's ``select(data, limit, per_class)``: an ImageSet of the first ``per_class`` images of
    each class, then the first ``limit``. (Today's internal select takes labels, gives positions.)"""
    from .contracts.dataset import select

    return data.take(select(data.labels, limit, per_class))

"""The dataset contract: an adapter per dataset, loading uint8 images with integer labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .codec import AVAILABLE, Availability
from .errors import CompbenchError


@dataclass
class ImageSet:
    """Images (N, H, W) or (N, H, W, C) uint8, integer labels, and their indices in the split."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, positions: np.ndarray) -> ImageSet:
        return ImageSet(self.images[positions], self.labels[positions], self.indices[positions])


class DatasetAdapter:
    """A dataset as registered by a plugin (``register_datasets``)."""

    name: str = ""
    description: str = ""
    class_names: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("test",)
    default_split: str = "test"

    def available(self) -> Availability:
        return AVAILABLE

    def load(self, split: str) -> ImageSet:
        """The whole split. Raise CompbenchError naming the file and fix on bad data."""
        raise NotImplementedError

    def checksums(self, split: str) -> dict[str, str]:
        """File name -> checksum of what was loaded, for the results manifest."""
        return {}

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise CompbenchError(
                f"dataset {self.name!r} has no split {split!r}; valid: {', '.join(self.splits)}"
            )


def select(data: ImageSet, limit: int | None = None, per_class: int | None = None) -> ImageSet:
    """The first ``per_class`` images of each class (in split order), then the first ``limit``."""
    positions = np.arange(len(data))
    if per_class is not None:
        keep = np.zeros(len(data), dtype=bool)
        for label in np.unique(data.labels):
            keep[np.flatnonzero(data.labels == label)[:per_class]] = True
        positions = positions[keep]
    if limit is not None:
        positions = positions[:limit]
    return data.take(positions)

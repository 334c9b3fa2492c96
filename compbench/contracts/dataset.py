"""The dataset contract: an adapter per dataset; opening a split gives an image source that
knows every image's label and shape up front and reads pixels by position on demand."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .codec import AVAILABLE, Availability
from .errors import CompbenchError, did_you_mean
from .params import Param


class ImageSource:
    """One opened split: labels, ids and shapes of every image; pixels read by position.

    ``read`` is random access, so a worker process reads only the images of its own work unit
    (a folder source opens only those files). Images are uint8, (H, W) gray or (H, W, C)
    colour, and may differ in size.
    """

    #: integer class label per image, (N,)
    labels: np.ndarray
    #: the image's id within the split (records.csv's ``index``), (N,)
    indices: np.ndarray
    #: class name per label value
    class_names: tuple[str, ...] = ()
    #: per image: a name (a file path for a folder), or empty when there is none
    names: tuple[str, ...] = ()
    #: files or items refused while opening: (name, reason)
    skipped: tuple[tuple[str, str], ...] = ()
    #: images whose pixels were converted to 8-bit gray or RGB: (name, what was done)
    conversions: tuple[tuple[str, str], ...] = ()

    def __len__(self) -> int:
        return len(self.labels)

    def shape(self, position: int) -> tuple[int, ...]:
        """The shape of the image at ``position``, without reading its pixels."""
        raise NotImplementedError

    def read(self, positions: Sequence[int]) -> list[np.ndarray]:
        """The images at these positions, in that order."""
        raise NotImplementedError

    def checksums(self) -> dict[str, str]:
        """Name -> checksum of what the images come from, for the results manifest."""
        return {}


@dataclass
class ImageSet(ImageSource):
    """A source held in memory: images (N, H, W) or (N, H, W, C) uint8, or a list of arrays of
    mixed shapes; integer labels; their ids in the split."""

    images: np.ndarray | list[np.ndarray]
    labels: np.ndarray
    indices: np.ndarray
    class_names: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    file_checksums: dict[str, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def shape(self, position: int) -> tuple[int, ...]:
        return tuple(self.images[position].shape)

    def read(self, positions: Sequence[int]) -> list[np.ndarray]:
        return [self.images[int(p)] for p in positions]

    def checksums(self) -> dict[str, str]:
        return dict(self.file_checksums)

    def take(self, positions: np.ndarray) -> ImageSet:
        positions = np.asarray(positions, dtype=int)
        if isinstance(self.images, np.ndarray):
            images = self.images[positions]
        else:
            images = [self.images[p] for p in positions]
        names = tuple(self.names[p] for p in positions) if self.names else ()
        return ImageSet(images, self.labels[positions], self.indices[positions], self.class_names, names,
                        self.skipped, dict(self.file_checksums))


class DatasetAdapter:
    """A dataset as registered by a plugin (``register_datasets``).

    Implement :meth:`open` (or, for a fixed in-memory dataset, :meth:`load`). ``params`` are
    given as ``--dataset name:key=value`` and arrive in :meth:`open` as keyword arguments,
    parsed and range-checked like a codec's.
    """

    name: str = ""
    description: str = ""
    class_names: tuple[str, ...] = ()
    splits: tuple[str, ...] = ("test",)
    default_split: str = "test"
    params: tuple[Param, ...] = ()

    def available(self) -> Availability:
        return AVAILABLE

    def open(self, split: str, **settings) -> ImageSource:
        """The split as an :class:`ImageSource`. Raise CompbenchError naming the file and the fix
        on bad data. The default wraps :meth:`load`."""
        data = self.load(split)
        if not data.class_names:
            data.class_names = tuple(self.class_names)
        return data

    def load(self, split: str) -> ImageSet:
        """The whole split in memory (for small fixed datasets such as MNIST)."""
        raise NotImplementedError

    def checksums(self, split: str) -> dict[str, str]:
        """File name -> checksum of what was loaded, for the results manifest."""
        return {}

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise CompbenchError(
                f"dataset {self.name!r} has no split {split!r}{did_you_mean(split, self.splits)}valid: "
                f"{', '.join(self.splits)}"
            )


def select(labels: np.ndarray, limit: int | None = None, per_class: int | None = None) -> np.ndarray:
    """Positions of the first ``per_class`` images of each class (in split order), then the
    first ``limit`` of those."""
    positions = np.arange(len(labels))
    if per_class is not None:
        keep = np.zeros(len(labels), dtype=bool)
        for label in np.unique(labels):
            keep[np.flatnonzero(labels == label)[:per_class]] = True
        positions = positions[keep]
    if limit is not None:
        positions = positions[:limit]
    return positions

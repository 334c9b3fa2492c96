"""What the metric passes share: OpenCV, reusable work arrays, and the strips of rows a large
image is measured in.

A photograph is measured a strip of rows at a time, so that the pass's work arrays stay a few
megabytes (cache-sized, whatever the image's size) instead of several full-size float planes:
a 24-megapixel image would otherwise allocate hundreds of megabytes. A window (SSIM's 7x7,
MS-SSIM's 11x11) needs the rows below its own, so consecutive strips overlap by the window's
height minus one (the halo): each strip is read with its halo and counts only its own rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

_threads = None


def opencv():
    """The cv2 module, imported on first use (it takes ~0.1 s, and small images never need it),
    with as many threads as the process's ``OMP_NUM_THREADS`` says: a worker sets it to its
    share of the cores (``compbench.run.worker_process``), so OpenCV never oversubscribes them. Read on
    every call, not once: a worker may be forked from a process that imported OpenCV already."""
    import cv2

    global _threads
    if _threads is None:
        _quiesce_at_fork(cv2)
    wanted = os.environ.get("OMP_NUM_THREADS", "")
    if wanted != _threads:
        if wanted.isdigit() and int(wanted) > 0:
            cv2.setNumThreads(int(wanted))
        _threads = wanted
    return cv2


#: values in one pass from which OpenCV's is worth its import (~0.1 s of CPU, once per process):
#: every strip of a photograph holds more (an image is measured in strips when it has more than
#: measure.TILE_SAMPLES samples: over 16,384 pixels even with 4 channels); a lone small image (a
#: setting's first images are measured one by one, see compbench.run.local_pool) stays in
#: numpy, as the tiles of small images do
OPENCV_MIN_VALUES = 1 << 14


def opencv_pays(items: int, values: int) -> bool:
    """Whether a pass over ``items`` images holding ``values`` values in all takes OpenCV's path:
    one image (or strip of one) that large. OpenCV's per-row work loses to numpy's whole-stack
    passes over several small images."""
    return items == 1 and values >= OPENCV_MIN_VALUES


def _quiesce_at_fork(cv2) -> None:
    """Stop OpenCV's thread pool around every fork of this process, and restart it after.

    fork copies only the calling thread; a pool thread that held the pool's lock at that moment
    leaves it held in the child forever, and the child's first ``setNumThreads`` or parallel
    pass waits on it (seen: a worker forked from a test process that had measured in-process
    hung in ``setNumThreads``). One thread means no pool threads, so the child starts clean and
    builds its own pool on first use."""
    parent_threads = []

    def before() -> None:
        parent_threads.append(cv2.getNumThreads())
        cv2.setNumThreads(1)

    def after_in_parent() -> None:
        cv2.setNumThreads(parent_threads.pop())

    def after_in_child() -> None:
        global _threads
        cv2.setNumThreads(parent_threads.pop())
        _threads = ""  # the next opencv() applies the child's own OMP_NUM_THREADS

    os.register_at_fork(before=before, after_in_parent=after_in_parent, after_in_child=after_in_child)


class Scratch:
    """Work arrays reused by every strip of one call, by name. Fresh temporaries per strip
    would cost more in page faults than the arithmetic on them; one set per call (not per
    process) keeps concurrent calls (Dask's threaded workers) apart."""

    def __init__(self) -> None:
        self._arrays: dict[str, np.ndarray] = {}

    def get(self, name: str, shape: tuple[int, ...], dtype=np.float32) -> np.ndarray:
        """A C-contiguous array of this shape and dtype; its contents are undefined."""
        size = math.prod(shape)
        array = self._arrays.get(name)
        if array is None or array.size < size or array.dtype != dtype:
            array = self._arrays[name] = np.empty(size, dtype)
        return array[:size].reshape(shape)

    def copy(self, name: str, array: np.ndarray, dtype=np.float32) -> np.ndarray:
        """``array`` converted to ``dtype``, in the work array ``name``."""
        out = self.get(name, array.shape, dtype)
        np.copyto(out, array)
        return out

    @property
    def nbytes(self) -> int:
        """Bytes held: what the call allocates beyond its inputs and outputs."""
        return sum(a.nbytes for a in self._arrays.values())


class Strip(NamedTuple):
    """Rows ``start`` .. ``stop`` of an image are read; the strip counts rows ``start`` ..
    ``start + owned`` as its own (per-pixel sums) and the ``windows`` windows whose top row is
    one of its own and whose bottom row is inside the image."""

    start: int
    stop: int
    owned: int
    windows: int


def strips(height: int, rows: int, window: int) -> Iterator[Strip]:
    """Strips of ``rows`` own rows each (the last one shorter) over an image of ``height`` rows,
    each read with the ``window - 1`` rows below it: every row is owned by one strip, and every
    window of ``window`` rows that fits in the image belongs to the strip that owns its top row."""
    for start in range(0, height, rows):
        owned = min(rows, height - start)
        windows = max(0, min(owned, height - window + 1 - start))
        yield Strip(start, min(height, start + owned + window - 1), owned, windows)



def checked_pair(originals, reconstructions) -> tuple[np.ndarray, np.ndarray]:
    """Both batches as arrays, checked: uint8, one shape."""
    x, y = np.asarray(originals), np.asarray(reconstructions)
    for what, images in (("originals", x), ("reconstructions", y)):
        if images.dtype != np.uint8:
            raise TypeError(f"{what} must be uint8 (values 0..255), got {images.dtype}")
    if x.shape != y.shape:
        raise ValueError(f"originals {x.shape} and reconstructions {y.shape} differ in shape")
    return x, y


def as_nhwc(images: np.ndarray) -> np.ndarray:
    """A batch (N, H, W) or (N, H, W, C) as (N, H, W, C), C = 1 for gray, C-contiguous (as
    OpenCV takes rows)."""
    shape = images.shape[:3] + (images.shape[3] if images.ndim == 4 else 1,)
    return np.ascontiguousarray(images.reshape(shape))

"""How many workers a machine's memory allows: each worker codes and measures one image at a
time, so its peak grows with the largest image of the run. The rule (docs/datasets.md):

    workers = min(usable cores or --jobs, available memory // (WORKER_BASE_BYTES + BYTES_PER_PIXEL x
              the largest image's pixels)), at least 1

``BYTES_PER_PIXEL`` is what a worker was measured to need beyond its baseline while coding
and measuring a large image, with headroom: benchmarks/bench_memory_big.py measured 7-15 bytes
per pixel for gray and 15-17 for RGB images of 16 and 81 Mpx through jpeg, jpeg2000 and webp
with all core metrics (reading the file is most of it).
"""

from __future__ import annotations

from .machine import available_bytes

#: a worker's own memory before any image: Python, numpy, the codec libraries (measured: 80 MiB)
WORKER_BASE_BYTES = 300 << 20
#: a worker's peak beyond its baseline per pixel of the image it codes and measures
BYTES_PER_PIXEL = 48


def workers_for(wanted: int, largest_pixels: int, available: int | None = None) -> tuple[int, str]:
    """The workers to start (at most ``wanted``) and, when memory cut them, why, in one line."""
    available = available_bytes() if available is None else available
    if available is None:
        return wanted, ""
    each = WORKER_BASE_BYTES + BYTES_PER_PIXEL * largest_pixels
    allowed = max(1, available // each)
    if allowed >= wanted:
        return wanted, ""
    return int(allowed), (f"{allowed} worker(s), not {wanted}: the largest image ({largest_pixels / 1e6:.1f} Mpx) "
                          f"needs about {each / 2**30:.1f} GiB per worker and {available / 2**30:.1f} GiB are "
                          "available")

"""How many workers a machine's memory allows: each worker codes and measures one image at a
time, so its peak grows with the largest image of the run. The rule (docs/datasets.md):

    workers = min(cores or --jobs, available memory // (WORKER_BASE_BYTES + BYTES_PER_SAMPLE x
              the largest image's samples, pixels x channels)), at least 1

``BYTES_PER_SAMPLE`` is what a worker was measured to need beyond its baseline while coding
and measuring a large image (benchmarks/bench_memory_big.py prints it per codec and size), with
headroom.
"""

from __future__ import annotations

import math

#: a worker's own memory before any image: Python, numpy, the codec libraries (measured: 80 MiB)
WORKER_BASE_BYTES = 300 << 20
#: a worker's peak beyond its baseline per sample (pixel x channel) of the image it codes and
#: measures: benchmarks/bench_memory_big.py measured 109-131 (gray 124-131 bytes per pixel, RGB
#: 326) on 16- and 81-Mpx images through jpeg, jpeg2000 and webp with all core metrics, nearly
#: all of it in the fused metrics pass; with headroom
BYTES_PER_SAMPLE = 144


def available_bytes() -> int | None:
    """MemAvailable of /proc/meminfo (Linux), or None where it cannot be read."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def worker_bytes(shape: tuple[int, ...]) -> int:
    """What one worker needs at its peak to code and measure an image of this shape."""
    return WORKER_BASE_BYTES + BYTES_PER_SAMPLE * (math.prod(shape) if shape else 0)


def workers_for(wanted: int, largest: tuple[int, ...], available: int | None = None) -> tuple[int, str]:
    """The workers to start (at most ``wanted``) for a run whose largest image (most samples)
    has shape ``largest`` ((H, W) or (H, W, C); () for none) and, when memory cut them, why, in
    one line."""
    available = available_bytes() if available is None else available
    if available is None:
        return wanted, ""
    each = worker_bytes(largest)
    allowed = max(1, available // each)
    if allowed >= wanted:
        return wanted, ""
    pixels = largest[0] * largest[1] if len(largest) >= 2 else 0
    kind = "gray" if len(largest) == 2 else "RGB" if largest[2:] == (3,) else f"{largest[2]} channels"
    return int(allowed), (f"{allowed} worker(s), not {wanted}: the largest image ({pixels / 1e6:.1f} Mpx {kind}) "
                          f"needs about {each / 2**30:.1f} GiB per worker and {available / 2**30:.1f} GiB are "
                          "available")

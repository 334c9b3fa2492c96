"""glibc's mmap threshold, set per process: the run's main process gives freed memory back,
its workers keep theirs for reuse.

By default glibc raises its mmap threshold each time a large block is freed, so later large
arrays come from the heap and stay in the process when freed. In the main process that made
a run's peak memory grow with its records (the index arrays of 660,000 records outlived their
use): there the threshold is fixed at 128 KiB (its starting value), so large blocks are mapped
and unmapped (about 0.7 s more CPU time in a 310,000-record sweep). A worker allocates and
frees the same large arrays for every unit; mapped afresh each time they cost page faults
(twice the worker CPU time on a sweep), so workers get the heap for anything under 32 MiB and
keep up to 64 MiB of free heap (setting one threshold stops glibc adjusting the other).
Without glibc (or without ``mallopt``) both are left as the allocator has them.
"""

from __future__ import annotations

import ctypes

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
#: the main process: blocks from 128 KiB up mapped, and returned when freed
RETURN_FREED = 128 << 10
#: a worker: what glibc's own adjustment reaches at most on 64-bit systems, and twice that
#: of free heap kept (as glibc's adjustment keeps it)
KEEP_FREED = 32 << 20


def _mallopt(option: int, value: int) -> bool:
    try:
        return bool(ctypes.CDLL("libc.so.6").mallopt(option, value))
    except (OSError, AttributeError):
        return False


def return_freed_memory() -> bool:
    """For the run's main process (the compbench command's own process: a library caller's
    allocator is left alone)."""
    return _mallopt(M_MMAP_THRESHOLD, RETURN_FREED)


def keep_freed_memory() -> bool:
    """For a worker process, which inherits the main process's setting when forked."""
    return _mallopt(M_MMAP_THRESHOLD, KEEP_FREED) and _mallopt(M_TRIM_THRESHOLD, 2 * KEEP_FREED)

"""What of the machine this process may use: its cores and its memory.

``os.cpu_count()`` and /proc/meminfo describe the whole machine. A process pinned to some cores
(``taskset``, a Slurm job) or in a container with CPU or memory limits (``docker --cpus 4
--memory 8g``, a Kubernetes pod's limits) may use less: one worker per core of the machine
would oversubscribe the cores it has, and a worker count sized by the host's free memory could
be killed by the container's limit. Both limits are read from the kernel: the CPU affinity,
and the cgroup (v1 or v2) the process is in, with every ancestor up to its hierarchy's mount
(a limit set on a parent slice applies too).
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Iterator
from pathlib import Path

#: a cgroup v1 limit at or above this is "no limit" (the kernel writes 2**63 rounded to pages)
NO_LIMIT = 1 << 60
#: what numerical libraries read, when first imported, for how many threads to start
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def usable_cores(proc: Path = Path("/proc")) -> int:
    """The cores this process may run on: its CPU affinity, lowered to a cgroup CPU quota
    rounded up (a quota of 1.5 cores runs two workers, throttled, rather than idle half a
    core), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    quota = cpu_quota(proc)
    if quota is not None:
        cores = min(cores, math.ceil(quota - 1e-9))
    return max(1, cores)


def cpu_quota(proc: Path = Path("/proc")) -> float | None:
    """The smallest CPU quota, in cores, of this process's cgroup and its ancestors (cgroup v2
    ``cpu.max``, v1 ``cpu.cfs_quota_us`` over ``cpu.cfs_period_us``), or None without one."""
    quotas = []
    for version, folder in _cgroup_folders(proc, "cpu"):
        if version == 2:
            quota, _, period = _read(folder / "cpu.max").partition(" ")
        else:
            quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
        try:
            quota_us, period_us = float(quota), float(period)
        except ValueError:  # "max", a missing file
            continue
        if quota_us > 0 and period_us > 0:  # v1 writes -1 for no quota
            quotas.append(quota_us / period_us)
    return min(quotas, default=None)


def available_bytes(proc: Path = Path("/proc")) -> int | None:
    """Memory this process may still take: /proc/meminfo's MemAvailable, lowered to what a
    cgroup memory limit leaves (the limit less the group's usage, its inactive file cache
    counted as free: the kernel reclaims it first), or None where neither can be read."""
    available = None
    try:
        with open(proc / "meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    for version, folder in _cgroup_folders(proc, "memory"):
        names = ("memory.max", "memory.current", "inactive_file") if version == 2 else \
            ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
        limit, usage = _number(folder / names[0]), _number(folder / names[1])
        if limit is None or limit >= NO_LIMIT or usage is None:
            continue
        left = max(0, limit - usage + _stat(folder / "memory.stat", names[2]))
        available = left if available is None else min(available, left)
    return available


def use_threads(threads: str) -> None:
    """``threads`` for every numerical library this process runs (a worker's share of the
    cores): through the variables they read when first imported, and for PyTorch also
    directly, since a fork server preloaded with it (``CodecFactory.preload``) imported it
    before the worker had a share: left at one thread per core, each worker's tensor
    operations would contend with the other workers' (measured: ddcae's coding 2.5x slower on
    2 workers)."""
    for variable in THREAD_VARIABLES:
        os.environ[variable] = threads
    torch = sys.modules.get("torch")
    if torch is not None and threads.isdigit():
        torch.set_num_threads(int(threads))


def fit_threads_to_cores() -> None:
    """Where this process may use fewer cores than the machine has (a container's CPU quota,
    a pinned job) and no thread variable is set, its numerical libraries use that many
    threads: PyTorch starts one per core of the host otherwise, and a 2-core quota on a
    64-core host would throttle training to a crawl. With no such limit nothing changes."""
    cores = usable_cores()
    if cores < (os.cpu_count() or 1) and not any(os.environ.get(v) for v in THREAD_VARIABLES):
        use_threads(str(cores))


def _cgroup_folders(proc: Path, controller: str) -> Iterator[tuple[int, Path]]:
    """(cgroup version, folder) of this process's cgroup for ``controller`` and each of its
    ancestors up to the hierarchy's mount, found through /proc/self/cgroup and mountinfo."""
    groups = {}  # controller ("" for v2) -> the process's cgroup path in that hierarchy
    for line in _read(proc / "self" / "cgroup").splitlines():
        _, controllers, path = line.split(":", 2) if line.count(":") >= 2 else ("", "", "")
        for name in controllers.split(","):
            groups[name] = path
    for root, mount_point, fstype, options in _cgroup_mounts(proc):
        version = 2 if fstype == "cgroup2" else 1
        path = groups.get("" if version == 2 else controller)
        if path is None or (version == 1 and controller not in options):
            continue
        # inside a cgroup namespace the mount's root is "/"; without one (older Docker) the
        # mount shows the container's own group, whose path /proc/self/cgroup also names
        if root == "/":
            relative = path
        else:
            relative = path[len(root):] if path.startswith(root) else ""
        folder = Path(mount_point, relative.lstrip("/"))
        if ".." in folder.parts:
            continue
        while True:
            yield version, folder
            if folder == Path(mount_point):
                break
            folder = folder.parent


def _cgroup_mounts(proc: Path) -> Iterator[tuple[str, str, str, set[str]]]:
    """(root in the hierarchy, mount point, fstype, super options) of each cgroup mount."""
    for line in _read(proc / "self" / "mountinfo").splitlines():
        fields, _, after = line.partition(" - ")
        fields, after = fields.split(), after.split()
        if len(fields) >= 5 and len(after) >= 3 and after[0] in ("cgroup", "cgroup2"):
            yield fields[3], fields[4], after[0], set(after[2].split(","))


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return ""


def _number(path: Path) -> int | None:
    text = _read(path)
    return int(text) if text.isdigit() else None


def _stat(path: Path, key: str) -> int:
    for line in _read(path).splitlines():
        name, _, value = line.partition(" ")
        if name == key and value.strip().isdigit():
            return int(value)
    return 0

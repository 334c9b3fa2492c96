"""What of the machine a run may use: cores under CPU affinity and a cgroup CPU quota, memory
under a cgroup memory limit (compbench/run/machine.py), and the run's default --jobs from them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from compbench.run import machine

MiB = 1 << 20


def fake_proc(tmp_path: Path, cgroup: str, mounts: list[tuple[str, str, str, str]], meminfo_kib: int | None) -> Path:
    """A /proc with self/cgroup, self/mountinfo (``mounts``: root, mount point, fstype,
    super options) and meminfo."""
    proc = tmp_path / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(cgroup)
    (proc / "self" / "mountinfo").write_text("".join(
        f"{30 + k} 23 0:{40 + k} {root} {point} rw,relatime shared:{k} - {fstype} {fstype} {options}\n"
        for k, (root, point, fstype, options) in enumerate(mounts)))
    if meminfo_kib is not None:
        (proc / "meminfo").write_text(f"MemTotal: {2 * meminfo_kib} kB\nMemAvailable: {meminfo_kib} kB\n")
    return proc


def write(folder: Path, **files: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("__", ".")).write_text(text)


def test_cgroup_v2_limits_on_the_group_and_its_parent(tmp_path):
    """A quota of 1.5 cores on the job's group, a memory limit on its parent slice: the
    strictest of each applies; inactive file cache counts as free."""
    mount = tmp_path / "cgroup"
    proc = fake_proc(tmp_path, "0::/batch.slice/job-7\n", [("/", str(mount), "cgroup2", "rw,nsdelegate")],
                     meminfo_kib=16 << 20)
    write(mount, cpu__max="max 100000\n", memory__max="max\n", memory__current="123\n")
    write(mount / "batch.slice", cpu__max="400000 100000\n", memory__max=f"{1024 * MiB}\n",
          memory__current=f"{600 * MiB}\n", memory__stat=f"anon 1\ninactive_file {100 * MiB}\nactive_file 5\n")
    write(mount / "batch.slice" / "job-7", cpu__max="150000 100000\n", memory__max="max\n",
          memory__current=f"{500 * MiB}\n")
    assert machine.cpu_quota(proc) == 1.5
    assert machine.usable_cores(proc) == min(2, len(os.sched_getaffinity(0)))  # 1.5 rounds up
    assert machine.available_bytes(proc) == (1024 - 600 + 100) * MiB


def test_cgroup_v1_mounted_at_the_containers_own_group(tmp_path):
    """Docker without a cgroup namespace: /proc/self/cgroup names the host's path, the mount's
    root is that group, its limits at the mount point; a v1 'no limit' is a huge number."""
    cpu, memory = tmp_path / "cpu,cpuacct", tmp_path / "memory"
    proc = fake_proc(tmp_path, "12:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n1:name=systemd:/docker/abc\n",
                     [("/docker/abc", str(cpu), "cgroup", "rw,cpu,cpuacct"),
                      ("/docker/abc", str(memory), "cgroup", "rw,memory")], meminfo_kib=1 << 20)
    write(cpu, cpu__cfs_quota_us="300000\n", cpu__cfs_period_us="100000\n")
    write(memory, memory__limit_in_bytes="9223372036854771712\n", memory__usage_in_bytes="1000\n")
    assert machine.cpu_quota(proc) == 3.0
    assert machine.usable_cores(proc) == min(3, len(os.sched_getaffinity(0)))
    assert machine.available_bytes(proc) == 1 << 30  # MemAvailable: the limit is none


def test_no_cgroup_limits_leave_the_affinity_and_meminfo(tmp_path):
    proc = fake_proc(tmp_path, "0::/\n", [], meminfo_kib=2048)
    assert machine.cpu_quota(proc) is None
    assert machine.usable_cores(proc) == len(os.sched_getaffinity(0))
    assert machine.available_bytes(proc) == 2048 * 1024
    assert machine.available_bytes(tmp_path / "nowhere") is None  # nothing readable: no figure


def cli_run(out: Path, preexec=None, *options: str, notes: list[str] | None = None) -> dict:
    """manifest.json's run facts of a small run; its notes are added to ``notes``."""
    done = subprocess.run([sys.executable, "-m", "compbench", "run", "--codecs", "jpeg", "--limit", "200",
                           "--no-figures", "--quiet", "--out", str(out), *options],
                          capture_output=True, text=True, preexec_fn=preexec, timeout=300)
    assert done.returncode == 0, done.stderr
    if notes is not None:
        notes += [line for line in done.stderr.splitlines() if line.startswith("note: ")]
    return json.loads((out / "manifest.json").read_text())["run"]


@pytest.mark.slow
def test_a_run_pinned_to_one_core_starts_one_worker(tmp_path):
    """``taskset -c N compbench run``: one worker, not one per core of the machine."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        pytest.skip("one core: a pinned run and a free one start the same workers")
    assert cli_run(tmp_path / "free")["jobs"] == len(cores)
    pinned = cli_run(tmp_path / "pinned", preexec=lambda: os.sched_setaffinity(0, {cores[-1]}))
    assert (pinned["jobs"], pinned["cores"]) == (1, 1) and "jobs_over_cores" not in pinned


@pytest.mark.slow
def test_more_workers_than_cores_say_the_timings_read_high(tmp_path):
    """--jobs 2 pinned to one core: the codecs' times include waiting for the core; the run
    says so in one line and in its manifest."""
    one_core = {sorted(os.sched_getaffinity(0))[0]}
    notes: list[str] = []
    run = cli_run(tmp_path / "over", lambda: os.sched_setaffinity(0, one_core), "--jobs", "2", notes=notes)
    expected = ("2 workers share 1 core(s): each codec's encode_s and decode_s include waiting for a core; "
                "for timings, use at most --jobs 1")
    assert (run["jobs"], run["cores"], run["jobs_over_cores"]) == (2, 1, expected)
    assert f"note: {expected}" in notes


CGROUP_V1 = Path("/sys/fs/cgroup")


@pytest.fixture
def limited_cgroup():
    """A cgroup v1 CPU group with a quota of half a core and a memory group limited to 512 MiB,
    removed afterwards; skipped where this process may not make them (not root, cgroup v2
    only, a read-only cgroup file system)."""
    name = f"compbench-test-{uuid.uuid4().hex[:8]}"
    groups = [CGROUP_V1 / "cpu" / name, CGROUP_V1 / "memory" / name]
    made = []
    try:
        for group in groups:
            group.mkdir()
            made.append(group)
        (groups[0] / "cpu.cfs_quota_us").write_text("50000")
        (groups[1] / "memory.limit_in_bytes").write_text(str(512 * MiB))
    except OSError as exc:
        for group in reversed(made):
            group.rmdir()
        pytest.skip(f"cannot make a cgroup v1 group here ({exc.strerror})")
    yield groups
    for group in groups:
        group.rmdir()


def test_a_process_in_a_limited_cgroup_sees_its_limits(limited_cgroup):
    """A real cgroup: a child moved into it before it starts Python reads half a core (one
    worker) and at most 512 MiB."""
    def enter():
        for group in limited_cgroup:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    probe = "from compbench.run import machine as m; print(m.usable_cores(), m.cpu_quota(), m.available_bytes())"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, preexec_fn=enter,
                          timeout=60, check=True)
    cores, quota, available = done.stdout.split()
    assert (int(cores), float(quota)) == (1, 0.5)
    assert 0 < int(available) <= 512 * MiB


@pytest.fixture
def thread_variables(monkeypatch):
    """The thread variables unset for the test (and restored after it)."""
    for variable in machine.THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    yield
    for variable in machine.THREAD_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.parametrize(("cores", "host", "given", "expected"), [
    (2, 64, None, "2"),  # a container's quota on a large host: its cores
    (8, 8, None, None),  # no limit: the libraries' own defaults
    (2, 64, "4", "4"),  # the user's own setting wins
])
def test_training_threads_follow_a_limit_only(monkeypatch, thread_variables, cores, host, given, expected):
    monkeypatch.setattr(machine, "usable_cores", lambda: cores)
    monkeypatch.setattr(os, "cpu_count", lambda: host)
    monkeypatch.setitem(sys.modules, "torch", None)  # PyTorch left alone here
    if given:
        monkeypatch.setenv("OMP_NUM_THREADS", given)
    machine.fit_threads_to_cores()
    assert os.environ.get("OMP_NUM_THREADS") == expected
    assert os.environ.get("MKL_NUM_THREADS") == (expected if not given else None)


@pytest.mark.slow
def test_training_in_a_limited_cgroup_uses_its_cores(limited_cgroup, tmp_path):
    """``compbench train`` in a container with half a core: PyTorch trains on one thread (its
    weights record how many), not one per core of the machine."""
    def enter():
        for group in limited_cgroup:
            (group / "cgroup.procs").write_text(str(os.getpid()))

    env = {k: v for k, v in os.environ.items() if k not in machine.THREAD_VARIABLES}
    done = subprocess.run([sys.executable, "-m", "compbench", "train", "ddcae", "--epochs", "1", "--limit", "64",
                           "--out", str(tmp_path / "w")], capture_output=True, text=True, preexec_fn=enter, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    from safetensors import safe_open

    with safe_open(str(tmp_path / "w" / "ddcae.safetensors"), "pt") as weights:
        config = json.loads(weights.metadata()["compbench-ddcae"])["config"]
    assert config["torch_threads"] == 1

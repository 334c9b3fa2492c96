"""Dask runs you can trust (issue 20), on a ``dask scheduler`` and ``dask worker`` processes this
test starts on 127.0.0.1: a worker with another plugin version that joins after the run began is
refused where the work runs (nothing of it recorded, the run ends non-zero, ``--resume``
finishes it without it); a scheduler killed mid-run loses its units as ``lost: Dask scheduler
lost``, the manifest and the exit say so, and ``--resume`` on a new scheduler ends with the
records of an uninterrupted run."""

import csv
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import COMPBENCH, ZOO, install_as_distribution, run_cli, stop_group

from compbench.store.schema import TIMING_COLUMNS

DASK = Path(sys.executable).parent / "dask"
LIMIT = 128
#: four slow settings: units of 64 images, about a second each on one worker (eight units:
#: a run is still going when a test stops or kills something after its first rows)
CODECS = "zoo-slow:ms=15|16|17|18"
SETTINGS = 4
#: --timeout 600: a worker this test stops for a while must not time its images out
RUN = ("run", "--codecs", CODECS, "--limit", LIMIT, "--timeout", 600, "--no-figures", "--quiet")


def env_with(site: Path) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """Schedulers and workers this test starts, each in its own process group; killed (by
    group) when the test ends, or when the test says."""

    def __init__(self) -> None:
        self.processes: list[subprocess.Popen] = []

    def _start(self, args, env) -> subprocess.Popen:
        process = subprocess.Popen([str(DASK), *map(str, args)], env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        self.processes.append(process)
        return process

    def scheduler(self, env) -> tuple[str, subprocess.Popen]:
        port = free_port()
        process = self._start(["scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"], env)
        return f"tcp://127.0.0.1:{port}", process

    def worker(self, address: str, env, wait_for: int | None = None) -> subprocess.Popen:
        """A single-threaded worker; ``wait_for``: return once the cluster has that many."""
        process = self._start(["worker", address, "--nworkers", 1, "--nthreads", 1, "--host", "127.0.0.1",
                               "--no-dashboard"], env)
        if wait_for:
            import distributed  # a declared test dependency: imported when used, not at collection

            with distributed.Client(address, timeout=120, set_as_default=False) as client:
                client.wait_for_workers(wait_for, timeout=300)
        return process

    @staticmethod
    def signal(process: subprocess.Popen, sig: int) -> None:
        if process.poll() is None:
            try:
                os.killpg(process.pid, sig)
            except OSError:
                pass

    def kill(self, process: subprocess.Popen) -> None:
        self.signal(process, signal.SIGCONT)  # a stopped group dies as well, but say so
        self.signal(process, signal.SIGKILL)
        process.wait(60)

    def close(self) -> None:
        for process in self.processes:
            self.kill(process)


@pytest.fixture
def cluster():
    started = Cluster()
    try:
        yield started
    finally:
        started.close()


def start_run(args, env) -> subprocess.Popen:
    return subprocess.Popen([str(COMPBENCH), *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(run: subprocess.Popen, seconds: float = 900) -> tuple[int, str]:
    try:
        _, errors = run.communicate(timeout=seconds)
    finally:
        stop_group(run)
    return run.returncode, errors


def refused_run(run: subprocess.Popen) -> tuple[str, str]:
    """A run that must end with exit 2: its last line of stderr (the one-line error) and all of it."""
    status, errors = finish(run)
    assert status == 2, errors
    return errors.strip().splitlines()[-1], errors


def wait_for_rows(records: Path, run: subprocess.Popen, seconds: float = 600) -> int:
    """Wait until the run has recorded something (a generous bound); the rows so far."""
    deadline = time.monotonic() + seconds
    while True:
        rows = records.read_bytes().count(b"\n") - 1 if records.exists() else 0
        if rows > 0:
            return rows
        assert run.poll() is None, f"the run ended before recording anything: {run.communicate()}"
        assert time.monotonic() < deadline, "gave up waiting for the run's first records"
        time.sleep(0.02)


def read(records: Path) -> pd.DataFrame:
    return pd.read_csv(records, dtype={"image": str, "error": str}, keep_default_na=False)


def complete(records: pd.DataFrame) -> bool:
    """Every (setting, image) once, none failed."""
    return (len(records) == SETTINGS * LIMIT and not records.duplicated(["setting", "image"]).any()
            and (records["error"] == "").all())


def comparable(path: Path) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    blank = [rows[0].index(column) for column in TIMING_COLUMNS]
    return [[("" if i in blank and n else field) for i, field in enumerate(row)] for n, row in enumerate(rows)]


@pytest.fixture(scope="module")
def zoo_at_9(tmp_path_factory):
    """The zoo plugin installed at another version (9.9.9) than the tests' (0.1.0)."""
    base = tmp_path_factory.mktemp("zoo-9")
    project = base / "project"
    shutil.copytree(ZOO, project)
    meta = project / "pyproject.toml"
    meta.write_text(re.sub(r'(?m)^version = ".*"$', 'version = "9.9.9"', meta.read_text()))
    (base / "site").mkdir()
    return install_as_distribution(project, base / "site")


@pytest.mark.slow
def test_a_worker_with_another_plugin_version_joining_mid_run_is_refused(zoo_site, zoo_at_9, cluster, tmp_path):
    good, bad = env_with(zoo_site), env_with(zoo_at_9)
    address, _ = cluster.scheduler(good)
    honest = cluster.worker(address, good, wait_for=1)
    out = tmp_path / "run"
    run = start_run([*RUN, "--executor", "dask", "--scheduler", address, "--out", out], good)
    wait_for_rows(out / "records.csv", run)
    # the honest worker pauses, so units are still waiting when the other one joins
    cluster.signal(honest, signal.SIGSTOP)
    try:
        other = cluster.worker(address, bad, wait_for=2)
    finally:
        cluster.signal(honest, signal.SIGCONT)
    message, errors = refused_run(run)
    found = re.fullmatch(r"compbench: error: (\d+) image\(s\) were not run: Dask worker tcp://127\.0\.0\.1:\d+: "
                         r"plugin package compbench-zoo 9\.9\.9 there, 0\.1\.0 here; fix that, then finish the run "
                         rf"with --resume --out {re.escape(str(out))}", message)
    assert found, errors
    refused = int(found[1])
    records = read(out / "records.csv")
    assert refused > 0 and len(records) == SETTINGS * LIMIT - refused  # nothing of the other worker's units
    assert (records["error"] == "").all() and not records.duplicated(["setting", "image"]).any()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and sum(manifest["refused"].values()) == refused

    cluster.kill(other)  # the mismatched worker gone: --resume finishes the run
    import distributed

    with distributed.Client(address, timeout=120, set_as_default=False) as client:
        deadline = time.monotonic() + 300
        while len(client.nthreads()) != 1:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    done = run_cli(*RUN, "--executor", "dask", "--scheduler", address, "--out", out, "--resume", env=good)
    assert done.returncode == 0, done.stderr
    assert complete(read(out / "records.csv"))
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


@pytest.mark.slow
def test_a_scheduler_killed_mid_run_loses_its_units_and_resume_finishes_them(zoo_site, cluster, tmp_path):
    env = env_with(zoo_site)
    reference = tmp_path / "reference"  # an uninterrupted run (the local pool gives the Dask records)
    done = run_cli(*RUN, "--out", reference, env=env)
    assert done.returncode == 0, done.stderr

    address, scheduler = cluster.scheduler(env)
    worker = cluster.worker(address, env, wait_for=1)
    out = tmp_path / "run"
    run = start_run([*RUN, "--executor", "dask", "--scheduler", address, "--out", out], env)
    wait_for_rows(out / "records.csv", run)
    cluster.kill(scheduler)
    message, errors = refused_run(run)
    found = re.fullmatch(r"compbench: error: (\d+) image\(s\) were lost to the infrastructure \(Dask scheduler "
                         r"lost\), not to the codecs \(records\.csv: 'lost: \.\.\.'\); finish the run with --resume "
                         rf"--out {re.escape(str(out))}", message)
    assert found, errors
    records = read(out / "records.csv")
    lost = records[records["error"] != ""]
    assert len(records) == SETTINGS * LIMIT and len(lost) == int(found[1]) > 0
    assert lost["error"].str.startswith("lost: Dask scheduler lost (").all(), lost["error"].unique()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "incomplete" and manifest["lost"] == {"Dask scheduler lost": len(lost)}

    cluster.kill(worker)
    address, _ = cluster.scheduler(env)  # a new scheduler and worker
    cluster.worker(address, env, wait_for=1)
    done = run_cli(*RUN, "--executor", "dask", "--scheduler", address, "--out", out, "--resume", env=env)
    assert done.returncode == 0, done.stderr
    assert comparable(out / "records.csv") == comparable(reference / "records.csv")
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"

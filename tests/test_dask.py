"""The Dask executor gives the records of the local pool: on a LocalCluster and on a separately
started ``dask scheduler`` with two ``dask worker`` processes (127.0.0.1 only); codec faults are
recorded as locally and never cost a Dask worker; a worker with other versions is refused."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import test_faults  # its helpers, not its tests (a from-import would collect them here again)
from conftest import run_cli, stop_group

from compbench.contracts.errors import CompbenchError
from compbench.store.records_reader import read_records
from compbench.store.schema import TIMING_COLUMNS

LIMIT = 200
DASK = Path(sys.executable).parent / "dask"
STRIKE = test_faults.STRIKE
FAULTS = f"zoo-good,zoo-raises,zoo-segfault:one_in={STRIKE},zoo-hang:one_in={test_faults.HANG_STRIKE},zoo-create-raises"


def run_records(tmp_path, name, *args):
    out = tmp_path / name
    done = run_cli("run", "--limit", LIMIT, "--out", out, "--no-figures", "--quiet", *args, cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    return done, read_records(out / "records.csv")


def without_timings(records: pd.DataFrame) -> pd.DataFrame:
    return records.drop(columns=TIMING_COLUMNS)


@pytest.fixture(scope="module")
def distributed():
    """Dask distributed, a declared test dependency: imported plainly (missing, it fails the
    tests instead of skipping them), when a test needs it rather than at collection."""
    import distributed

    return distributed


@pytest.fixture(scope="module")
def dask_executor(distributed):
    from compbench.run import dask_executor

    return dask_executor


@pytest.mark.slow
def test_local_cluster_records_match_the_local_pool(with_zoo, tmp_path):
    local, expected = run_records(tmp_path, "local", "--codecs", "jpeg,zoo-good", "--jobs", 2)
    dask, found = run_records(tmp_path, "dask", "--codecs", "jpeg,zoo-good", "--jobs", 2, "--executor", "dask")
    assert local.returncode == dask.returncode == 0, dask.stderr
    assert len(found) == 2 * LIMIT
    pd.testing.assert_frame_equal(without_timings(found), without_timings(expected))


@pytest.mark.slow
def test_faults_on_dask_are_recorded_as_locally(with_zoo, tmp_path, mnist_test):
    local, expected = run_records(tmp_path, "local", "--codecs", FAULTS, "--timeout", test_faults.TIMEOUT, "--jobs", 2)
    dask, found = run_records(tmp_path, "dask", "--codecs", FAULTS, "--timeout", test_faults.TIMEOUT, "--jobs", 2,
                              "--executor", "dask")
    assert local.returncode == dask.returncode == 1, dask.stderr  # images failed: exit 1
    pd.testing.assert_frame_equal(without_timings(found), without_timings(expected))
    # and they are the faults the zoo strikes, not a lost Dask worker
    wanted = test_faults.expected_errors(mnist_test.images[:LIMIT])
    for setting in FAULTS.split(","):
        failed = found[(found["setting"] == setting) & (found["error"] != "")].set_index("index")["error"]
        assert sorted(failed.index) == sorted(wanted[setting]), setting
        assert all(failed[i].startswith(reason) for i, reason in wanted[setting].items()), setting
    assert not found["error"].str.contains("Dask worker lost").any()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def scheduler(with_zoo, distributed):
    """A ``dask scheduler`` and two single-threaded ``dask worker`` processes on 127.0.0.1, each
    in its own process group, killed at the end; yields the scheduler's address."""
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0"}
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "start_new_session": True, "env": env}
    processes = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                   "--no-dashboard"], **quiet)]
    try:
        processes += [subprocess.Popen([str(DASK), "worker", address, "--nworkers", "1", "--nthreads", "1",
                                        "--host", "127.0.0.1", "--no-dashboard"], **quiet) for _ in range(2)]
        with distributed.Client(address, timeout=60, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in processes:
            stop_group(process, wait=10)


@pytest.mark.slow
def test_a_running_scheduler_with_two_workers_gives_the_local_records(scheduler, tmp_path, distributed,
                                                                      dask_executor):
    codecs = f"jpeg,zoo-good,zoo-segfault:one_in={STRIKE}"
    local, expected = run_records(tmp_path, "local", "--codecs", codecs, "--jobs", 2)
    dask, found = run_records(tmp_path, "dask", "--codecs", codecs, "--executor", "dask", "--scheduler", scheduler)
    assert local.returncode == dask.returncode == 1, dask.stderr
    pd.testing.assert_frame_equal(without_timings(found), without_timings(expected))
    assert found["error"].str.startswith("worker killed by signal 11 (SIGSEGV) while encoding").any()
    # the segfaults cost images, never a Dask worker; the workers keep no pool of the run
    with distributed.Client(scheduler, set_as_default=False) as client:
        assert len(client.nthreads()) == 2
        assert all(not pools for pools in client.run(lambda: dict(dask_executor._POOLS)).values())


def test_a_worker_with_other_versions_is_refused(dask_executor):
    here = dask_executor.installed_versions()
    assert dask_executor.version_mismatch(here, here) is None
    older = {**here, "plugins": [line.replace("==", "==0.0.") for line in here["plugins"]]}
    name, version = here["plugins"][0].split("==")
    assert dask_executor.version_mismatch(here, older) == f"plugin package {name} 0.0.{version} there, {version} here"
    assert dask_executor.version_mismatch(here, {**here, "plugins": []}) == \
        f"plugin package {name} is not installed there ({version} here)"
    # a real cluster whose workers report another compbench than this process
    with pytest.raises(CompbenchError, match=r"Dask worker (inproc|tcp)://\S+: compbench .* there, 9\.9\.9 here; "
                       "install the same versions"):
        with dask_executor.DaskExecutor(1, expected={**here, "compbench": "9.9.9"}):
            pass


def test_two_local_clusters_at_once_print_no_port_warning(dask_executor, recwarn):
    with dask_executor.DaskExecutor(1), dask_executor.DaskExecutor(1):
        pass
    assert not [w for w in recwarn if "already in use" in str(w.message)]


def test_an_unreachable_scheduler_is_one_line(monkeypatch, dask_executor):
    monkeypatch.setattr(dask_executor, "CONNECT_SECONDS", 1)
    with pytest.raises(CompbenchError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:\d+"):
        dask_executor.DaskExecutor(1, scheduler=f"tcp://127.0.0.1:{free_port()}").start()


def test_scheduler_without_dask_executor_is_refused():
    from compbench import api

    with pytest.raises(CompbenchError, match="--scheduler needs --executor dask"):
        api.run("jpeg", limit=10, write=False, scheduler="tcp://127.0.0.1:8786")

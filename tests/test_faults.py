"""The broken-codec zoo through the CLI: every fault costs only the images it strikes, each is
recorded with its reason (signals named, hangs timed out), and the honest codec beside them
comes through complete. Also: no worker outlives its run, and SIGTERM keeps the records."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import COMPBENCH, run_cli

from compbench.store.records_reader import read_records

LIMIT = 200
#: per-image time limit of the fault run: short, so each hang costs little, but with room for a
#: loaded 2-core machine (at 1 s an honest image was once timed out under load)
TIMEOUT = 3
STRIKE = 100  # one_in for the faults that kill or hang: about two of the 200 images
#: one_in for the hang: two of the first 200 digits (each hang costs one or two time limits, a
#: batch call's and then its own: at STRIKE it struck five and took 8 of the run's 28 s x 3)
HANG_STRIKE = 150
CODECS = ",".join([
    "zoo-good", "zoo-raises", f"zoo-hang:one_in={HANG_STRIKE}", f"zoo-segfault:one_in={STRIKE}",
    f"zoo-abort:one_in={STRIKE}", f"zoo-oom-kill:one_in={STRIKE}", "zoo-str", "zoo-ndarray", "zoo-shape",
    "zoo-dtype", "zoo-nondeterministic", "zoo-create-raises", "zoo-overwrites-metrics",
])


def expected_errors(images) -> dict[str, dict[int, str]]:
    """Setting -> {index: the start of its error} for every image a fault must strike."""
    from compbench_zoo import unlucky

    def some(one_in, reason):
        return {i: reason for i, image in enumerate(images) if unlucky(image, one_in)}

    every = range(len(images))
    return {
        "zoo-good": {}, "zoo-nondeterministic": {}, "zoo-overwrites-metrics": {},
        "zoo-raises": some(16, "encode failed: ValueError: zoo-raises refuses this image"),
        f"zoo-hang:one_in={HANG_STRIKE}": some(HANG_STRIKE, f"timed out after {TIMEOUT:g} s while encoding"),
        f"zoo-segfault:one_in={STRIKE}": some(STRIKE, "worker killed by signal 11 (SIGSEGV) while encoding"),
        f"zoo-abort:one_in={STRIKE}": some(STRIKE, "worker killed by signal 6 (SIGABRT) while encoding"),
        f"zoo-oom-kill:one_in={STRIKE}": some(STRIKE, "worker killed by signal 9 (SIGKILL) while encoding"),
        "zoo-str": dict.fromkeys(every, "encode returned str, expected bytes"),
        "zoo-ndarray": dict.fromkeys(every, "encode returned numpy.ndarray, expected bytes (use .tobytes())"),
        "zoo-shape": dict.fromkeys(every, "decode returned uint8 (28, 27), expected uint8 (28, 28)"),
        "zoo-dtype": dict.fromkeys(every, "decode returned float32 (28, 28), expected uint8 (28, 28)"),
        "zoo-create-raises": dict.fromkeys(every, "codec setup failed: RuntimeError: zoo-create-raises cannot load"),
    }


@pytest.mark.parametrize("jobs", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_every_fault_costs_only_its_images_and_names_its_reason(with_zoo, tmp_path, mnist_test, jobs):
    from compbench_zoo import pack

    out = tmp_path / "run"
    done = run_cli("run", "--codecs", CODECS, "--limit", LIMIT, "--timeout", TIMEOUT, "--jobs", jobs,
                   "--out", out, "--no-figures", "--quiet", cwd=tmp_path)
    assert done.returncode == 1, done.stderr  # images failed: exit 1, after writing everything
    assert "Traceback" not in done.stderr and (out / "report.html").exists()
    records = read_records(out / "records.csv")
    images = mnist_test.images[:LIMIT]
    expected = expected_errors(images)
    assert set(records["setting"]) == set(expected)
    strikes = {"hang": HANG_STRIKE, "segfault": STRIKE, "abort": STRIKE, "oom-kill": STRIKE}
    assert all(expected[f"zoo-{fault}:one_in={n}"] for fault, n in strikes.items())  # each strikes some image
    for setting, errors in expected.items():
        rows = records[records["setting"] == setting].set_index("index")
        assert rows.index.tolist() == list(range(LIMIT)), setting  # every image, once, in order
        failed = rows[rows["error"] != ""]
        assert sorted(failed.index) == sorted(errors), (setting, failed["error"].to_dict())
        for index, reason in errors.items():
            assert failed.loc[index, "error"].startswith(reason), (setting, failed.loc[index, "error"])
        fine = rows[rows["error"] == ""]
        noise = 1 if setting == "zoo-nondeterministic" else 0  # its random byte is in the bitstream
        real = np.array([len(pack(images[i])) + noise for i in fine.index])
        assert (fine["bytes"] == real).all() and (fine["psnr"] == np.inf).all(), setting

    # honest bytes: the noise byte of the nondeterministic codec is counted too; extras cannot
    # overwrite psnr or bpp, and the attempt is in the manifest and on the terminal
    sneaky = records[records["setting"] == "zoo-overwrites-metrics"]
    assert (sneaky["bpp"] == 8 * sneaky["bytes"] / 784).all() and (sneaky["psnr"] == np.inf).all()
    notes = json.loads((out / "manifest.json").read_text())["notes"]["zoo-overwrites-metrics"]
    assert any("named like one compbench or a plugin computes ('psnr')" in note for note in notes)
    assert "warning: zoo-overwrites-metrics: bpp: the codec reported a metric named like one" in done.stderr
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_not_applicable_codec_is_reported_once_and_the_others_run(tmp_path):
    from test_runner import mixed_registry

    from compbench import api

    result = api.run("graylike,anyimage", dataset="mixed", out=tmp_path, jobs=1, registry=mixed_registry(),
                     figures=False)
    refused = result.manifest["not_applicable"]["graylike"]
    assert refused["images"] == 2 and refused["of"] == 5 and "gray" in refused["reasons"][0]
    gray = result.records[result.records["codec"] == "graylike"]
    assert len(gray) == 3 and (gray["error"] == "").all()  # skipped images are not errors
    assert len(result.records[result.records["codec"] == "anyimage"]) == 5


def worker_pids(parent: int) -> list[int]:
    """Live child processes of ``parent`` (from /proc)."""
    try:
        children = open(f"/proc/{parent}/task/{parent}/children").read().split()
    except OSError:
        return []
    return [int(pid) for pid in children]


def is_alive(pid: int) -> bool:
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] not in ("Z", "X")  # a zombie waiting for a reaper is dead


def start_run(tmp_path, *args) -> subprocess.Popen:
    return subprocess.Popen([str(COMPBENCH), "run", "--out", str(tmp_path / "run"), "--quiet", "--no-figures",
                             *map(str, args)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.05)


def descendants(pid: int) -> list[int]:
    """Live processes below ``pid``: its workers, and a fork server's children."""
    found, todo = [], worker_pids(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += worker_pids(child)
    return found


#: the compbench command run from a process that also runs another thread: its workers then
#: start from a fork server (compbench.run.local_pool.start_method_for)
THREADED_COMMAND = """
import sys, threading, time
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()
from compbench.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("caller", ["command", "threaded caller"])
def test_no_worker_outlives_a_killed_run(with_zoo, tmp_path, caller):
    args = ["--codecs", "zoo-hang:one_in=1,zoo-hang:one_in=2", "--limit", 20, "--jobs", 2, "--timeout", 600]
    if caller == "command":
        run = start_run(tmp_path, *args)
    else:
        run = subprocess.Popen([sys.executable, "-c", THREADED_COMMAND, "run", "--out", str(tmp_path / "run"),
                                "--quiet", "--no-figures", *map(str, args)], cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    workers = []
    try:
        # the workers (and, for the threaded caller, the fork server they came from)
        wait_for(lambda: len(descendants(run.pid)) >= (2 if caller == "command" else 3))
        time.sleep(0.5)  # the workers are hanging in encode now
        workers = descendants(run.pid)
        os.kill(run.pid, signal.SIGKILL)  # what the OOM killer does to the main process
        run.wait(10)
        wait_for(lambda: not any(is_alive(pid) for pid in workers), seconds=30)  # a hang bound
    finally:
        if run.poll() is None:
            run.kill()
        for pid in workers:  # only if the test failed: leave nothing behind
            if is_alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_sigterm_stops_the_run_and_keeps_its_records(with_zoo, tmp_path):
    run = start_run(tmp_path, "--codecs", "zoo-slow:ms=20", "--limit", 400, "--jobs", 2)
    records = tmp_path / "run" / "records.csv"
    try:
        wait_for(lambda: records.exists() and records.read_bytes().count(b"\n") > 64)
        workers = worker_pids(run.pid)
        assert workers  # else the check below, that none outlives the run, would prove nothing
        run.send_signal(signal.SIGTERM)
        _, stderr = run.communicate(timeout=30)
    finally:
        if run.poll() is None:
            run.kill()
    kept = read_records(records)
    assert run.returncode == 143
    assert f"compbench: interrupted (SIGTERM); {len(kept)} records kept in {tmp_path / 'run'}; finish with --resume" \
        in stderr
    assert 0 < len(kept) < 400 and records.read_bytes().endswith(b"\n")
    wait_for(lambda: not any(is_alive(pid) for pid in workers), seconds=30)  # a hang bound
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert (manifest["status"], manifest["interrupted"], manifest["records"]) == ("interrupted", "SIGTERM", len(kept))
    resumed = start_run(tmp_path, "--codecs", "zoo-slow:ms=20", "--limit", 400, "--jobs", 2, "--resume")
    assert resumed.wait(60) == 0, resumed.stderr.read()
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["status"] == "complete" and "interrupted" not in manifest
    assert len(read_records(records)) == 400


def test_a_stage_board_caught_mid_post_is_not_read_as_a_stage():
    """A worker caught writing its stage (and off the CPU) must not be read as a mix of two
    posts: the board's initial start time 0 with its first stage made a worker that had just
    begun reading its images look 120 s late, and the pool killed it as timed out."""
    import multiprocessing

    from compbench.run.worker import Stage
    from compbench.run.worker_process import StageBoard

    board = StageBoard(multiprocessing.get_context("fork"))
    assert board.read() is None  # nothing posted yet
    board.slots[0] = 1  # the first post half written: its stage, not yet its start time
    board.slots[2] = list(Stage).index(Stage.READING)
    assert board.read() is None
    board.slots[0] = 0
    board.post(0, Stage.READING, None, 200)
    task, posted = board.read()
    assert (task, posted.what, posted.count) == (0, Stage.READING, 200)
    assert time.monotonic() - posted.started < 60
    board.slots[0] += 1  # the next post half written: the last whole one is not mixed with it
    assert board.read() is None

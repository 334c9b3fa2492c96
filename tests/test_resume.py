"""Nothing finished is lost: a run killed at any moment and then resumed ends with exactly the
records of an uninterrupted run (timings aside); a torn last line is dropped; a folder can be
finished from its records.csv; a full disk is one clear error and leaves whole rows."""

import csv
import io
import os
import shutil
import signal
import subprocess
import time

import pandas as pd
import pytest
from conftest import COMPBENCH, run_cli, skip_unless_ci

from compbench import api
from compbench.store.records_reader import read_records
from compbench.store.schema import TIMING_COLUMNS

LIMIT = 300
RUN = ["run", "--codecs", "zoo-slow:ms=3,zoo-raises,jpeg", "--limit", str(LIMIT), "--jobs", "2",
       "--no-figures", "--quiet", "--allow-errors"]  # zoo-raises fails some images on purpose


def comparable(path) -> list[list[str]]:
    """records.csv's rows as text, timing columns blanked: what must match byte for byte."""
    rows = list(csv.reader(io.StringIO(path.read_text())))
    blank = [rows[0].index(column) for column in TIMING_COLUMNS]
    return [[("" if i in blank and row is not rows[0] else field) for i, field in enumerate(row)] for row in rows]


@pytest.fixture(scope="module")
def reference(zoo_site, tmp_path_factory):
    """An uninterrupted run's folder."""
    out = tmp_path_factory.mktemp("reference") / "run"
    done = run_cli(*RUN, "--out", out, env=_env(zoo_site))
    assert done.returncode == 0, done.stderr
    return out


def _env(site):
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


def kill_when(out, rows: int, env) -> int:
    """Start the run, SIGKILL it once records.csv holds ``rows`` lines; returns the lines it had."""
    records = out / "records.csv"
    run = subprocess.Popen([str(COMPBENCH), *RUN, "--out", str(out)], env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (records.exists() and records.read_bytes().count(b"\n") >= rows):
            assert run.poll() is None, "the run ended before the kill point"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
    finally:
        if run.poll() is None:
            run.kill()
    return records.read_bytes().count(b"\n")


@pytest.mark.parametrize("rows", [1, 150, 600], ids=["header-only", "early", "late"])
def test_killed_then_resumed_equals_an_uninterrupted_run(zoo_site, reference, tmp_path, rows):
    env = _env(zoo_site)
    out = tmp_path / "run"
    kept = kill_when(out, rows, env)
    assert kept < 3 * LIMIT + 1  # it really was stopped midway
    done = subprocess.run([str(COMPBENCH), *RUN, "--out", str(out), "--resume"], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert comparable(out / "records.csv") == comparable(reference / "records.csv")
    pd.testing.assert_frame_equal(untimed_summary(out), untimed_summary(reference))


def untimed_summary(folder) -> pd.DataFrame:
    summary = pd.read_csv(folder / "summary.csv")
    return summary[[c for c in summary if not c.startswith(tuple(TIMING_COLUMNS))]]


def test_a_torn_last_line_is_dropped_and_resumed(zoo_site, reference, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(reference, out)
    data = (reference / "records.csv").read_bytes()
    lines = data.splitlines(keepends=True)
    (out / "records.csv").write_bytes(b"".join(lines[:200]) + lines[200][:37])  # half a row at the end
    assert len(read_records(out / "records.csv")) == 199  # the reader drops the torn line
    done = run_cli(*RUN, "--out", out, "--resume", env=_env(zoo_site))
    assert done.returncode == 0, done.stderr
    assert comparable(out / "records.csv") == comparable(reference / "records.csv")


def test_resume_with_nothing_left_only_finishes_the_folder(zoo_site, reference, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(reference, out)
    for name in ("summary.csv", "summary.md", "report.html"):
        (out / name).unlink()
    before = (out / "records.csv").read_bytes()
    done = run_cli(*RUN, "--out", out, "--resume", env=_env(zoo_site))
    assert done.returncode == 0, done.stderr
    assert (out / "records.csv").read_bytes() == before  # nothing recomputed, timings included
    assert (out / "summary.csv").exists() and (out / "report.html").exists()


def test_a_folder_is_finished_from_its_records(with_zoo, reference, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    shutil.copy(reference / "records.csv", out / "records.csv")
    shutil.copy(reference / "manifest.json", out / "manifest.json")
    result = api.finish(out)
    pd.testing.assert_frame_equal(pd.read_csv(out / "summary.csv"), pd.read_csv(reference / "summary.csv"))
    assert (out / "report.html").exists() and (out / "fig7_comparison.png").exists()  # samples encoded again
    assert result.manifest["status"] == "complete" and len(result.records) == 3 * LIMIT

    (out / "fig7_comparison.png").unlink()
    result = api.finish(out, reencode_samples=False)
    assert not (out / "fig7_comparison.png").exists() and "figures" in result.manifest["notes"]


@pytest.fixture
def small_disk(tmp_path):
    """A 96 KiB tmpfs (root only); skipped where mounting is refused (a failure in CI)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        skip_unless_ci(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_disk_is_one_clear_error_and_leaves_whole_rows(zoo_site, small_disk, tmp_path):
    env = _env(zoo_site)
    out = small_disk / "run"
    done = run_cli(*RUN, "--out", out, env=env)
    assert done.returncode == 2
    assert done.stderr.strip() == (f"compbench: error: cannot write {out / 'records.csv'} (No space left on "
                                   "device); free space or choose another --out")
    data = (out / "records.csv").read_bytes()
    assert data.endswith(b"\n") and not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    kept = read_records(out / "records.csv")
    assert 0 < len(kept) < 3 * LIMIT and kept["setting"].ne("").all()

    # space freed: --resume finishes it
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    done = run_cli(*RUN, "--out", out, "--resume", env=env)
    assert done.returncode == 0, done.stderr
    assert len(read_records(out / "records.csv")) == 3 * LIMIT

"""Results you can trust between runs (issue 20): ``--resume`` refuses a folder whose images,
plugins, compbench or codec libraries changed, before anything runs; one process writes a
results folder at a time, and a killed one leaves no stale lock; a codec that takes none of the
images is not damage; training never touches the shipped weights, and a weights file labels a
setting by its content; a comparison that cannot be written prints no verdict; opening a folder
reads headers before whole files, leaves links outside it out, and memory limits the workers."""

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import COMPBENCH, THIRDPARTY, install_as_distribution, run_cli, skip_unless_ci, stop_group
from PIL import Image

from compbench import CompbenchError, __version__, api, load_dataset
from compbench.run.memory import BYTES_PER_PIXEL, WORKER_BASE_BYTES, workers_for
from compbench.store.lock import LOCK_NAME, FolderLock

GiB = 1 << 30


def one_line_exit_2(done, *fragments):
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for fragment in fragments:
        assert fragment in done.stderr, (fragment, done.stderr)


def env_with(*sites: Path) -> dict:
    """This environment with ``sites`` (plugin distributions) first on the path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [*map(str, sites),
                                                                     os.environ.get("PYTHONPATH")]))}


def keep_rows(records: Path, rows: int) -> bytes:
    """Cut records.csv to its header and ``rows`` whole rows (what a SIGKILL leaves); the bytes."""
    lines = records.read_bytes().splitlines(keepends=True)
    data = b"".join(lines[: rows + 1])
    records.write_bytes(data)
    return data


def save_png(path: Path, seed: int, shape=(24, 32)) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)).save(path)


# -- 1. --resume after the folder changed ------------------------------------------------------------

FOLDER_RUN = ("run", "--dataset", "folder:path=images", "--codecs", "png", "--limit", "6", "--out", "run",
              "--quiet", "--no-figures")


@pytest.fixture(scope="module")
def folder_run(tmp_path_factory):
    """A complete run of png over a folder of six images (b.png ... g.png): the folder holding
    ``images/`` and ``run/`` (relative paths, so a copy of it resumes as the original would)."""
    base = tmp_path_factory.mktemp("folder-run")
    for seed, name in enumerate("bcdefg"):
        save_png(base / "images" / f"{name}.png", seed)
    done = run_cli(*FOLDER_RUN, cwd=base)
    assert done.returncode == 0, done.stderr
    return base


@pytest.mark.parametrize("change, named", [
    ("a file that sorts first is added", "a.png added"),
    ("a selected file is changed", "d.png "),
    ("a selected file is removed", "c.png removed"),
])
def test_resume_after_the_folder_changed_is_refused_before_anything_runs(folder_run, tmp_path, change, named):
    base = tmp_path / "copy"
    shutil.copytree(folder_run, base)
    kept = keep_rows(base / "run" / "records.csv", 3)
    manifest = (base / "run" / "manifest.json").read_bytes()
    if change.endswith("added"):
        save_png(base / "images" / "a.png", 99)
    elif change.endswith("changed"):
        save_png(base / "images" / "d.png", 99)
    else:
        (base / "images" / "c.png").unlink()
    done = run_cli(*FOLDER_RUN, "--resume", cwd=base)
    one_line_exit_2(done, "--resume: the dataset's files changed since the run in run started: ", named,
                    "--overwrite")
    assert (base / "run" / "records.csv").read_bytes() == kept  # nothing ran, nothing was rewritten
    assert (base / "run" / "manifest.json").read_bytes() == manifest


# -- 2. --resume after a plugin upgrade, or another compbench or codec library -------------------------

PLUGIN_RUN = ("run", "--codecs", "zlibraw,png", "--limit", "20", "--out", "run", "--quiet", "--no-figures")


def plugin_at(version: str, where: Path) -> Path:
    """The third-party plugin ``compbench-zlibraw`` installed at ``version`` into a site folder."""
    project = where / f"project-{version}"
    shutil.copytree(THIRDPARTY, project)
    meta = project / "pyproject.toml"
    meta.write_text(re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', meta.read_text()))
    site = where / f"site-{version}"
    site.mkdir()
    return install_as_distribution(project, site)


@pytest.fixture(scope="module")
def plugin_run(tmp_path_factory):
    """A complete run under compbench-zlibraw 1.0; the folder holding it and the two sites."""
    base = tmp_path_factory.mktemp("plugin-run")
    sites = {version: plugin_at(version, base) for version in ("1.0", "2.0")}
    work = base / "work"
    work.mkdir()
    done = run_cli(*PLUGIN_RUN, cwd=work, env=env_with(sites["1.0"]))
    assert done.returncode == 0, done.stderr
    return work, sites


@pytest.mark.parametrize("change", ["nothing", "the plugin is upgraded", "compbench's version",
                                    "a codec library's version"])
def test_resume_after_the_software_changed_is_refused_naming_both_versions(plugin_run, tmp_path, change):
    origin, sites = plugin_run
    work = tmp_path / "work"
    shutil.copytree(origin, work)
    kept = keep_rows(work / "run" / "records.csv", 3)
    manifest_path = work / "run" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    assert "compbench-zlibraw==1.0" in manifest["plugins"]
    library, installed = next(iter(manifest["codec_libraries"]["png"].items()))
    site, expected = sites["1.0"], ()
    if change == "the plugin is upgraded":
        site, expected = sites["2.0"], ("the plugins changed", "compbench-zlibraw 1.0 -> 2.0")
    elif change == "compbench's version":  # as a run started by another compbench would have it
        manifest["compbench"] = "0.0.1"
        expected = ("compbench's version changed", f"compbench 0.0.1 -> {__version__}")
    elif change == "a codec library's version":
        manifest["codec_libraries"]["png"][library] = "0.0.1"
        expected = ("the codec libraries changed", f"png's {library} 0.0.1 -> {installed}")
    manifest_path.write_text(json.dumps(manifest))
    done = run_cli(*PLUGIN_RUN, "--resume", cwd=work, env=env_with(site))
    if change == "nothing":  # the same software resumes: the refusals are about what changed
        assert done.returncode == 0, done.stderr
        assert len(pd.read_csv(work / "run" / "records.csv")) == 40
        return
    one_line_exit_2(done, "--resume: ", "changed since the run in run started: ", *expected, "--overwrite")
    assert (work / "run" / "records.csv").read_bytes() == kept


# -- 3. one process per results folder ----------------------------------------------------------------

LOCK_RUN = ["run", "--codecs", "zoo-slow:ms=40", "--limit", "200", "--jobs", "1", "--timeout", "600", "--quiet",
            "--no-figures"]


def wait_for(condition, what: str, process=None, seconds: float = 300) -> None:
    """Poll ``condition`` (a generous bound: the machine may be loaded); a process that ends
    first fails the test."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert process is None or process.poll() is None, f"the run ended before {what}: {process.returncode}"
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def holder_is(out: Path, pid: int) -> bool:
    """The folder's lock file names ``pid`` (a holder writes its PID once it holds the lock)."""
    try:
        return (out / LOCK_NAME).read_text().strip() == str(pid)
    except OSError:
        return False


def data_rows(records: Path) -> int:
    return max(0, records.read_bytes().count(b"\n") - 1) if records.exists() else 0


def start(args, env) -> subprocess.Popen:
    return subprocess.Popen([str(COMPBENCH), *map(str, args)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


@pytest.mark.slow
def test_one_writer_per_folder_and_a_killed_one_leaves_no_stale_lock(zoo_site, tmp_path):
    env = env_with(zoo_site)
    out = tmp_path / "run"
    first = start([*LOCK_RUN, "--out", out], env)
    try:  # killed while it holds the folder, with some records written
        wait_for(lambda: holder_is(out, first.pid) and data_rows(out / "records.csv") > 0, "the first records",
                 first)
        os.kill(first.pid, signal.SIGKILL)
        first.wait(30)
    finally:
        stop_group(first)
    killed_at = data_rows(out / "records.csv")
    assert 0 < killed_at < 200

    holder = start([*LOCK_RUN, "--out", out, "--resume"], env)  # proceeds: no stale lock
    try:
        wait_for(lambda: holder_is(out, holder.pid), "the resumed run holding the folder", holder)
        os.kill(holder.pid, signal.SIGSTOP)  # it holds the folder for as long as this test needs
        try:
            before = (out / "records.csv").read_bytes()
            second = run_cli(*LOCK_RUN, "--out", out, "--resume", env=env)
            one_line_exit_2(second, f"is in use by another compbench process (PID {holder.pid})")
            report = run_cli("report", out, env=env)
            one_line_exit_2(report, f"is in use by another compbench process (PID {holder.pid})")
            assert (out / "records.csv").read_bytes() == before
        finally:
            os.kill(holder.pid, signal.SIGCONT)
        _, errors = holder.communicate(timeout=600)
        assert holder.returncode == 0, errors
    finally:
        stop_group(holder)
    records = pd.read_csv(out / "records.csv", dtype={"image": str, "error": str}, keep_default_na=False)
    assert len(records) == 200 and not records.duplicated(["setting", "image"]).any()
    assert records["index"].tolist() == list(range(200)) and (records["error"] == "").all()
    assert run_cli("report", out, env=env).returncode == 0  # released at the end


HOLD_A_LOCK = textwrap.dedent("""
    import fcntl, os, sys
    fd = os.open(os.path.join(sys.argv[1], ".compbench.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.lockf(fd, fcntl.LOCK_EX)  # held, its PID not yet written: the file names a former holder
    print("held", flush=True)
    sys.stdin.read()
""")


def test_a_refusal_names_the_holder_even_before_it_wrote_its_pid(tmp_path):
    (tmp_path / LOCK_NAME).write_text("4194999\n")  # a former holder's PID
    holder = subprocess.Popen([sys.executable, "-c", HOLD_A_LOCK, str(tmp_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(CompbenchError, match=rf"is in use by another compbench process \(PID {holder.pid}\)"):
            FolderLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait(30)
    FolderLock(tmp_path).acquire().release()  # the holder gone, its lock went with it


def test_report_on_a_folder_without_a_run_says_so_and_leaves_no_lock_file(tmp_path):
    with pytest.raises(CompbenchError, match="is not a compbench results folder"):
        api.report(tmp_path)
    with pytest.raises(CompbenchError, match="no such results folder"):
        api.report(tmp_path / "nowhere")
    assert list(tmp_path.iterdir()) == []


# -- 7. a codec that cannot take the dataset is not damage --------------------------------------------

NOT_APPLICABLE_RUN = ("run", "--dataset", "skimage", "--codecs", "jpeg,ddcae", "--sweep", "--limit", "2",
                      "--quiet", "--no-figures")


@pytest.mark.slow
def test_a_codec_that_takes_none_of_the_images_is_not_damage(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    for out in (first, second):
        done = run_cli(*NOT_APPLICABLE_RUN, "--out", out, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    assert "note: ddcae is not applicable to 2 of 2 images of skimage" in done.stderr
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["status"] == "complete" and any(label.startswith("ddcae:") for label in manifest["codecs"])

    compared = run_cli("compare", first, second, cwd=tmp_path)
    assert compared.returncode == 0, compared.stderr + compared.stdout
    assert "PASS" in compared.stdout
    history = run_cli("history", first, second, "--metric", "bpp", "--plot", tmp_path / "h.png", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    report = run_cli("report", first, cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "damaged" not in (first / "report.html").read_text().lower()

    records = (first / "records.csv").read_bytes()
    resumed = run_cli(*NOT_APPLICABLE_RUN, "--out", first, "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert (first / "records.csv").read_bytes() == records  # nothing ran again


# -- 8. training writes a new folder; a weights file labels a setting by its content -----------------

def shipped_weights() -> dict[str, str]:
    from compbench_codecs.ddcae.weights_file import WEIGHTS_DIR

    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(WEIGHTS_DIR.iterdir())}


def sha_label(path: Path) -> str:
    return "weights=sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:12]


@pytest.mark.slow
def test_training_writes_a_new_folder_and_weights_label_settings_by_content(tmp_path):
    from compbench_codecs.ddcae.weights_file import DEFAULT_WEIGHTS

    before = shipped_weights()
    done = run_cli("train", "ddcae", "--epochs", "1", "--limit", "256", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    made = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len(made) == 1 and re.fullmatch(r"ddcae-\d{8}-\d{6}", made[0].name), made
    trained = made[0] / DEFAULT_WEIGHTS.name
    assert trained.is_file() and f"weights: {trained.relative_to(tmp_path)}" in done.stdout
    assert shipped_weights() == before  # the shipped weights are untouched

    holding = tmp_path / "holding"
    holding.mkdir()
    (holding / "notes.txt").write_text("mine")
    one_line_exit_2(run_cli("train", "ddcae", "--epochs", "1", "--limit", "256", "--out", holding, cwd=tmp_path),
                    f"--out {holding} already holds files", "--overwrite")
    assert [p.name for p in holding.iterdir()] == ["notes.txt"]

    # two different files: two labels, each the file's sha256; the path does not matter
    shipped, weights = tmp_path / "shipped.safetensors", tmp_path / "w.safetensors"
    shutil.copy(DEFAULT_WEIGHTS, shipped)
    shutil.copy(trained, weights)
    run = ("run", "--codecs", f"ddcae:weights={weights},ddcae:weights={shipped}", "--limit", "20", "--out", "r",
           "--quiet", "--no-figures")
    done = run_cli(*run, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    settings = set(pd.read_csv(tmp_path / "r" / "records.csv")["setting"])
    assert settings == {f"ddcae:step=0.7,{sha_label(trained)}", f"ddcae:step=0.7,{sha_label(DEFAULT_WEIGHTS)}"}
    # the same path with other content is another setting: the run cannot be resumed with it
    keep_rows(tmp_path / "r" / "records.csv", 5)
    weights.write_bytes(trained.read_bytes() + b" ")  # other content (refused before it is ever loaded)
    one_line_exit_2(run_cli(*run, "--resume", cwd=tmp_path), "--resume: this command differs from the run in",
                    "codecs")


def test_trainings_started_in_the_same_second_get_folders_of_their_own(tmp_path, monkeypatch):
    from compbench.cli import train

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(train.time, "strftime", lambda _: "20260101-000000")
    made = [train.output_folder("ddcae", None, False) for _ in range(3)]
    assert [p.name for p in made] == ["ddcae-20260101-000000", "ddcae-20260101-000000-2", "ddcae-20260101-000000-3"]
    assert all(p.is_dir() for p in made)


# -- 9. a comparison that cannot be written prints no verdict ------------------------------------------

@pytest.fixture
def read_only_disk(tmp_path):
    """A small tmpfs, to be remounted read-only by the test (root only); skipped where mounting
    is refused, a failure when ``CI`` is set (CI must run this)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        skip_unless_ci(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_comparison_onto_a_read_only_folder_is_refused_before_any_verdict(folder_run, read_only_disk, tmp_path):
    new = read_only_disk / "new"
    shutil.copytree(folder_run / "run", new)
    subprocess.run(["mount", "-o", "remount,ro", str(read_only_disk)], check=True)
    done = run_cli("compare", folder_run / "run", new, cwd=tmp_path)
    one_line_exit_2(done, str(new), "Read-only file system", "--markdown PATH --json PATH")
    assert "PASS" not in done.stdout and "FAIL" not in done.stdout and "regression" not in done.stdout
    # written elsewhere, the same comparison goes through
    done = run_cli("compare", folder_run / "run", new, "--markdown", tmp_path / "c.md", "--json", tmp_path / "c.json",
                   cwd=tmp_path)
    assert done.returncode == 0 and "PASS" in done.stdout, done.stderr
    assert (tmp_path / "c.md").is_file() and (tmp_path / "c.json").is_file()


# -- 10. memory: headers before whole files, links, workers --------------------------------------------

# the peak is VmHWM, this process's own: ru_maxrss would start at the RSS of the process that
# started it (Linux carries it across exec), and a big test process would hide the growth
PEAK_GROWTH = textwrap.dedent("""
    import sys
    from compbench import load_dataset

    def peak():
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))

    load_dataset("folder", path=sys.argv[1])  # Pillow's plugins and the adapter, loaded once
    before = peak()
    source = load_dataset("folder", path=sys.argv[2])
    print(peak() - before, len(source), dict(source.skipped)["zeros.bin"])
""")


def test_opening_a_folder_does_not_read_a_big_non_image_whole(tmp_path):
    warm, data = tmp_path / "warm", tmp_path / "data"
    save_png(warm / "a.png", 0)
    for seed in range(3):
        save_png(data / f"{seed}.png", seed)
    size = 200 << 20
    with open(data / "zeros.bin", "wb") as handle:  # written in pieces: this process stays small too
        for _ in range(size >> 20):
            handle.write(bytes(1 << 20))
    if not Path("/proc/self/status").exists():
        skip_unless_ci("needs /proc (Linux) to read a process's peak RSS")
    done = subprocess.run([sys.executable, "-c", PEAK_GROWTH, str(warm), str(data)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr
    growth, images, why = done.stdout.split(maxsplit=2)
    assert int(images) == 3 and why.strip() == "not an image file Pillow can read"
    assert int(growth) < size // 8, f"peak RSS grew by {int(growth) / 2**20:.0f} MiB opening the folder"


def test_a_linked_class_folder_outside_is_left_out_unless_follow_links(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "elsewhere"
    save_png(root / "cats" / "a.png", 0)
    save_png(outside / "dogs" / "b.png", 1)
    save_png(outside / "c.png", 2)
    (root / "dogs").symlink_to(outside / "dogs", target_is_directory=True)
    (root / "cats" / "c.png").symlink_to(outside / "c.png")  # a file linked from outside
    (root / "cats" / "again.png").symlink_to(root / "cats" / "a.png")  # inside: used
    (root / "cats" / "up").symlink_to(root / "cats", target_is_directory=True)  # a loop

    source = load_dataset("folder", path=str(root))
    assert source.names == ("cats/a.png", "cats/again.png")
    reason = "a symbolic link leading outside the folder (follow_links=true uses it)"
    assert dict(source.skipped) == {"dogs/": reason, "cats/c.png": reason}

    followed = load_dataset("folder", path=str(root), follow_links="true")
    assert followed.names == ("cats/a.png", "cats/again.png", "cats/c.png", "dogs/b.png")
    assert followed.class_names == ("cats", "dogs")
    assert dict(followed.skipped) == {"cats/up/": "a symbolic link to a folder above it (a loop): not followed"}


def test_memory_limits_the_workers_for_a_huge_image(monkeypatch):
    big = 81_000_000  # pixels
    jobs, why = workers_for(8, big, available=4 * GiB)
    assert jobs == 1
    assert why.startswith("1 worker(s), not 8: the largest image (81.0 Mpx) needs about ") and "4.0 GiB" in why
    assert workers_for(8, big, available=1 << 20)[0] == 1  # never fewer than one
    assert workers_for(2, 784, available=4 * GiB) == (2, "")  # small images: the cores decide
    each = WORKER_BASE_BYTES + BYTES_PER_PIXEL * big
    assert workers_for(8, big, available=3 * each)[0] == 3
    monkeypatch.setattr("compbench.run.memory.available_bytes", lambda: None)
    assert workers_for(4, big) == (4, "")  # memory unknown (no /proc/meminfo): the cores decide

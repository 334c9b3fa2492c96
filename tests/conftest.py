import functools
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest

from compbench.contracts.registry import build_registry
from compbench.run.allocator import keep_freed_memory

# A test process reuses freed heap, as a run's workers do. The compbench command sets its own
# process to map large blocks and return them when freed (compbench.run.allocator): right for
# one run, but a test process that called it went on mapping every later array afresh, and the
# suite spent ~50 s of system time in page faults.
keep_freed_memory()

THIRDPARTY = Path(__file__).parent / "thirdparty" / "compbench_zlibraw"
ZOO = Path(__file__).parent / "thirdparty" / "compbench_zoo"
COMPBENCH = Path(sys.executable).parent / "compbench"


def pytest_collection_modifyitems(config, items):
    """The slow tests first, shared out over the test processes: xdist's work stealing hands
    each process an equal run of the collection, so each run begins with its share of the slow
    tests (which then go side by side, not one after another on one process, nor last with the
    suite waiting on them); the other tests keep their order, so a module's tests stay together
    and its fixtures are made once. Without xdist: the slow tests first, the rest in order."""
    processes = getattr(config, "workerinput", {}).get("workercount", 1)
    slow = [item for item in items if item.get_closest_marker("slow")]
    rest = [item for item in items if not item.get_closest_marker("slow")]
    ordered, left = [], len(items)
    for k in range(processes):  # as worksteal cuts the collection: len // processes remaining
        share = left // (processes - k)
        mine = slow[k::processes]
        ordered += mine + rest[: share - len(mine)]
        rest = rest[share - len(mine):]
        left -= share
    items[:] = ordered + rest


def in_ci() -> bool:
    """Whether the CI environment variable is set (to anything but "", 0, false or no)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_unless_ci(reason: str):
    """Skip a test this machine cannot run (no Chromium, no tmpfs mount, a missing system
    package), but fail it when CI is set: CI installs everything, so a skip there hides a
    broken setup. Use it for every environment skip."""
    if in_ci():
        pytest.fail(f"CI is set, but {reason}", pytrace=False)
    pytest.skip(reason)


def assert_every_check_passed(report) -> None:
    """A kit report in which every check ran and passed: ``check_codec`` already raises on a
    failed check, and an unavailable codec's checks are all "skipped", not failed, so
    ``report.ok`` after the call proves nothing."""
    from compbench.testing import CHECK_NAMES

    assert [(r.name, r.status) for r in report.results] == [(name, "passed") for name in CHECK_NAMES], \
        str(report)


#: the kit's time limit for the built-in codecs' checks: a hang detector that cannot fire on a
#: loaded machine (convae's fidelity check, ~16 s of CPU, passed the kit's default of 120 s on a
#: shared 2-core machine); how fast the checks run is not what they test
KIT_HANG_BOUND = 1200.0


class LazyImages:
    """Images for the conformance kit, loaded when the kit first iterates over them (at test
    time) instead of when ``parametrize_codec_checks`` runs (at collection)."""

    def __init__(self, load):
        self.load = load

    def __iter__(self):
        return iter(self.load())


@functools.cache
def builtin_registry():
    """The registry of the installed plugins, built once per session: the one registry the
    test modules parametrize over (codec names are needed at collection) and the ``registry``
    fixture. Read it, never change it."""
    return build_registry()


@pytest.fixture(scope="session")
def registry():
    return builtin_registry()


@pytest.fixture(scope="session")
def mnist_test(registry):
    return registry.dataset("mnist").load("test")


@pytest.fixture(scope="session")
def digits(mnist_test):
    """Two test digits of each class, (20, 28, 28) uint8."""
    picks = [np.flatnonzero(mnist_test.labels == c)[:2] for c in range(10)]
    return mnist_test.images[np.concatenate(picks)]


def install_as_distribution(project: Path, site: Path) -> Path:
    """Install a one-module plugin project into ``site`` as pip would: the module plus a
    ``.dist-info`` folder carrying its metadata and entry points (no build, no network)."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    for module in project.glob("*.py"):
        shutil.copy(module, site / module.name)
    dist_info = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n")
    lines = []
    for group, entries in meta["entry-points"].items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in entries.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return site


@pytest.fixture(scope="session")
def thirdparty_site(tmp_path_factory):
    """A site folder holding the installed third-party plugin ``compbench-zlibraw``."""
    return install_as_distribution(THIRDPARTY, tmp_path_factory.mktemp("site"))


def make_visible(site: Path, monkeypatch) -> Path:
    """Plugins installed in ``site`` visible in this process and in subprocesses."""
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])))
    return site


@pytest.fixture
def with_thirdparty(thirdparty_site, monkeypatch):
    """The third-party plugin visible in this process and in subprocesses."""
    return make_visible(thirdparty_site, monkeypatch)


@pytest.fixture(scope="session")
def zoo_site(tmp_path_factory):
    """A site folder holding the installed zoo of broken codecs ``compbench-zoo``."""
    return install_as_distribution(ZOO, tmp_path_factory.mktemp("zoo-site"))


@pytest.fixture
def with_zoo(zoo_site, monkeypatch):
    """The broken-codec zoo visible in this process and in subprocesses."""
    return make_visible(zoo_site, monkeypatch)


def stop_group(process: subprocess.Popen, wait: float = 30) -> None:
    """Kill a process this test started and its children (its process group: compbench's runs
    and Dask's schedulers start one), if it is still there; then reap it."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except OSError:
            pass
    process.wait(wait)


def run_cli(*args, cwd=None, env=None):
    """Run the installed ``compbench`` command; returns the CompletedProcess."""
    return subprocess.run([str(COMPBENCH), *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env=env, timeout=600)


@pytest.fixture
def cli(tmp_path):
    """The installed ``compbench`` command in a fresh process (for what only a process shows:
    the console script, exit codes, signals, plugins installed for subprocesses)."""
    def invoke(*args, cwd=None):
        return run_cli(*args, cwd=cwd or tmp_path)
    return invoke


@pytest.fixture
def cli_main(capsys, tmp_path, monkeypatch):
    """``compbench.cli.main(argv)`` in this process, in ``tmp_path``: the same exit code, stdout
    and stderr as the command (a CompletedProcess), without a new interpreter each time."""
    from compbench.cli import main

    monkeypatch.chdir(tmp_path)

    def invoke(*args):
        capsys.readouterr()  # what came before is not this command's
        argv = [str(arg) for arg in args]
        try:
            code = main(argv)
        finally:
            keep_freed_memory()  # main() set the command's allocator for good (see below)
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["compbench", *argv], code, out, err)
    return invoke

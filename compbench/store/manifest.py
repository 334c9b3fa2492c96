"""manifest.json: what a run records about itself, so results can be reproduced and compared
(design §6). Written once when the run starts (``status: running``) and completed once at its
end (:class:`ManifestFile`); read by :func:`read_manifest` only."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .._version import __version__
from ..contracts.errors import CompbenchError
from .files import write_json
from .names import written_name, written_text

CORE_LIBRARIES = ("numpy", "scipy", "scikit-image", "pandas", "pluggy", "matplotlib", "tabulate",
                  "opencv-python-headless")  # OpenCV filters behind SSIM, MS-SSIM and SSIMULACRA 2


def git_commit(package_dir: Path) -> str | None:
    """The commit of the compbench checkout this package runs from (with "-dirty" if it has
    uncommitted changes), or None when it is installed from a wheel: a virtualenv inside some
    other repository must not lend that repository's commit to compbench."""
    package_dir = package_dir.resolve()

    def git(*args: str) -> str | None:
        done = subprocess.run(["git", "-C", str(package_dir), *args], capture_output=True, text=True, timeout=5)
        return done.stdout.strip() if done.returncode == 0 else None

    try:
        top = git("rev-parse", "--show-toplevel")
        # compbench's own checkout: the package folder sits at the top of the repository
        if top is None or Path(top).resolve() != package_dir.parent:
            return None
        if not (package_dir.parent / "pyproject.toml").is_file():
            return None
        commit = git("rev-parse", "HEAD")
        if commit is None:
            return None
        dirty = git("status", "--porcelain", "--untracked-files=no")
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def library_versions(names=CORE_LIBRARIES, missing: str | None = None) -> dict[str, str]:
    """Installed versions of these distributions; a missing one is left out, or reported as
    ``missing`` when given (for plugins' ``library_versions``)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            if missing is not None:
                versions[name] = missing
    return versions


def environment() -> dict:
    """Where the run ran. Worked out once per process (reading package metadata and asking git
    take ~20 ms, a tenth of a small run): the code and libraries a process has loaded do not
    change while it runs, whatever is installed or committed meanwhile."""
    found = _environment()
    return {**found, "libraries": dict(found["libraries"])}


@lru_cache(maxsize=1)
def _environment() -> dict:
    import os

    return {
        "compbench": __version__,
        "git_commit": git_commit(Path(__file__).resolve().parents[1]),  # the compbench package
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "libraries": library_versions(),
    }


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def software_facts(registry, factories: dict) -> dict:
    """The software a run ran with: compbench, Python and libraries, plugins, codec libraries."""
    return {**environment(), "plugins": registry.requirements(),
            "codec_libraries": {name: factory.library_versions() for name, factory in factories.items()}}


def dataset_facts(adapter, source, split: str) -> dict:
    """A checksum of every file used, and every file skipped or converted on the way in (with
    the reason); names as results write them (:mod:`.names`)."""
    facts = {"dataset_checksums": _named(source.checksums() or adapter.checksums(split))}
    if source.skipped:
        facts["dataset_skipped"] = _named(source.skipped)
    if getattr(source, "conversions", ()):
        facts["dataset_conversions"] = _named(source.conversions)
    return facts


def _named(pairs) -> dict[str, str]:
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return {written_name(name): written_text(value) for name, value in items}


def describe_refusal(by_shape: dict[tuple, str], shapes: dict[int, tuple]) -> dict:
    """A codec's refusal of some image shapes: how many images, of how many, and why."""
    skipped = sum(1 for shape in shapes.values() if shape in by_shape)
    return {"images": skipped, "of": len(shapes), "reasons": list(dict.fromkeys(by_shape.values()))}


class RunStatus(StrEnum):
    """manifest.json's ``status``: written as the run starts, set once as it ends."""

    RUNNING = "running"
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # some images never ran (a codec refused them, or work was lost)
    INTERRUPTED = "interrupted"  # stopped by Ctrl-C or SIGTERM: the records kept, --resume goes on


class ManifestFile:
    """A run's manifest.json (or, for a run that writes no folder, the same dict in memory):
    its opening facts written when the run starts, completed once when it ends."""

    def __init__(self, path: Path | None, facts: dict) -> None:
        self.path, self.facts = path, dict(facts)
        if path is not None:  # the manifest first: records are never on disk without their run
            write_json(path, self.facts)

    def complete(self, **ending) -> dict:
        """The finished run's manifest: the opening facts and ``ending`` (status, counts,
        figures...), written once."""
        self.facts = {**self.facts, **ending}
        if self.path is not None:
            write_json(self.path, self.facts)
        return self.facts


def read_manifest(path: Path, fix: str = "rerun the command that wrote it") -> dict:
    """A manifest.json as a dict; a missing, unreadable or malformed one is one line naming the
    file, the problem and ``fix``."""
    try:
        manifest = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise CompbenchError(f"{path} does not exist; {fix}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CompbenchError(f"{path} is not a readable manifest ({exc}); {fix}") from None
    if not isinstance(manifest, dict):
        raise CompbenchError(f"{path} is not a compbench manifest (expected a JSON object); {fix}")
    return manifest

"""What a run records about itself, so results can be reproduced and compared (design §6)."""

from __future__ import annotations

import platform
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from .. import __version__

CORE_LIBRARIES = ("numpy", "scipy", "scikit-image", "pandas", "pluggy", "matplotlib", "tabulate")


def git_commit(path: Path) -> str | None:
    """The commit of the compbench checkout, if it runs from one (and whether it is dirty)."""
    try:
        commit = subprocess.run(["git", "-C", str(path), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=5)
        if commit.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(path), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return commit.stdout.strip() + ("-dirty" if dirty else "")
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
    import os

    return {
        "compbench": __version__,
        "git_commit": git_commit(Path(__file__).resolve().parent),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "libraries": library_versions(),
    }


def plugin_requirements(registry) -> list[str]:
    """Pinned ``name==version`` lines of every plugin distribution, for reproducing a run."""
    return sorted({f"{p.distribution}=={p.version}" for p in registry.plugins})


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

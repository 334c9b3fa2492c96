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


def plugin_requirements(registry) -> list[str]:
    """Pinned ``name==version`` lines of every plugin distribution, for reproducing a run."""
    return sorted({f"{p.distribution}=={p.version}" for p in registry.plugins})


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

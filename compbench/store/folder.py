"""A results folder belongs to one run: claiming it (new, resumed or replaced), and unique default
names for runs started together."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

from ..contracts.errors import CompbenchError
from .lock import LOCK_NAME, FolderLock

#: what marks a folder as holding a run (the manifest is written when a run starts)
RUN_MARKERS = ("manifest.json", "records.csv")
NEW, RESUME, OVERWRITE = "new", "resume", "overwrite"


def holds_run(folder: Path) -> bool:
    return any((folder / name).exists() for name in RUN_MARKERS)


def default_folder(codec_names, root: Path = Path("results")) -> tuple[Path, FolderLock]:
    """``results/<time>-<codecs>``, created here and now, and locked; a run started in the same
    second gets ``-2``, ``-3``... (``mkdir`` either creates the folder or fails: no two runs
    share one)."""
    names = re.sub(r"[^A-Za-z0-9+_-]", "_", "+".join(dict.fromkeys(codec_names)))[:80]
    base = root / f"{time.strftime('%Y%m%d-%H%M%S')}-{names}"
    _make_parents(base)
    for attempt in range(1, 1000):
        candidate = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
        try:
            candidate.mkdir()
            return candidate, FolderLock(candidate).acquire()
        except FileExistsError:
            continue
        except OSError as exc:
            raise _unwritable(candidate, exc) from None
    raise CompbenchError(f"cannot find a free results folder name beside {base}; give --out")


def claim_folder(out: Path, mode: str = NEW) -> tuple[Path, FolderLock]:
    """Make ``out`` this run's folder, locked for this process (:mod:`.lock`) before anything
    in it is looked at.

    ``new``: refused if it holds a run. ``resume``: it must hold one (the caller checks that the
    command matches). ``overwrite``: the old run is removed whole first.
    """
    if str(out).strip() == "":
        raise CompbenchError("--out is empty; give a results folder, e.g. --out results/mine")
    if out.exists() and not out.is_dir():
        raise CompbenchError(f"--out {out} is a file, not a folder; choose a folder path")
    if mode == RESUME and not (out.is_dir() and holds_run(out)):
        raise CompbenchError(f"--resume: {out} holds no run to continue (no manifest.json); "
                             "drop --resume to start one there")
    _make_parents(out)
    try:
        out.mkdir(exist_ok=True)
    except OSError as exc:
        raise _unwritable(out, exc) from None
    lock = FolderLock(out).acquire()
    with lock.released_on_error():
        _claim_locked(out, mode)
    return out, lock


def _claim_locked(out: Path, mode: str) -> None:
    has_run = holds_run(out)
    if mode == RESUME and not has_run:  # another process may have removed it meanwhile
        raise CompbenchError(f"--resume: {out} holds no run to continue (no manifest.json); "
                             "drop --resume to start one there")
    if mode == NEW and has_run:
        raise CompbenchError(f"{out} already holds a run; continue it with --resume, replace it with "
                             "--overwrite, or choose another --out")
    if mode == OVERWRITE and has_run:
        _empty(out)
    try:
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise _unwritable(out, exc) from None


def _empty(out: Path) -> None:
    """Remove the old run, all but the lock this process holds on the folder."""
    try:
        for entry in out.iterdir():
            if entry.name == LOCK_NAME:
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    except OSError as exc:
        raise CompbenchError(f"--overwrite: cannot remove the old run in {out} "
                             f"({exc.strerror or exc}); remove it by hand or choose another --out") from None


def check_not_inside(out: Path, baseline: Path) -> None:
    """A run must not write into its own baseline (it would compare with itself and pass)."""
    out_path, base = out.resolve(), baseline.resolve()
    base_folder = base if base.is_dir() or not base.suffix else base.parent
    if out_path == base_folder or base_folder in out_path.parents or out_path in base_folder.parents:
        raise CompbenchError(f"--out {out} and --baseline {baseline} overlap: the run would overwrite "
                             "the baseline it is compared with; choose another --out")


def _make_parents(folder: Path) -> None:
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(folder, exc) from None


def _unwritable(path: Path, exc: OSError) -> CompbenchError:
    return CompbenchError(f"cannot write results to {path} ({exc.strerror or exc}); free space or "
                          "choose a writable folder with --out")

"""The run's results folder: claimed for this run (a new default one, or ``--out`` new, resumed
or replaced) before any record is written."""

from __future__ import annotations

from pathlib import Path

from ..contracts.errors import CompbenchError
from ..store.folder import NEW, OVERWRITE, RESUME, claim_folder, default_folder
from ..store.lock import FolderLock
from ..store.manifest import read_manifest
from .plan import RunPlan


def claim_results_folder(plan: RunPlan) -> tuple[Path | None, FolderLock | None]:
    """This run's folder (None for a run that writes none) and the lock this process holds on
    it until the run ends; a resumed run must be the one its manifest recorded."""
    output = plan.output
    if not output.write:
        return None, None
    if output.out is None:
        return default_folder(spec.name for spec in plan.specs)
    mode = RESUME if output.resume else OVERWRITE if output.overwrite else NEW
    out_dir, lock = claim_folder(Path(output.out), mode)
    if output.resume:
        with lock.released_on_error():
            check_same_command(out_dir, plan)
    return out_dir, lock


def check_same_command(out_dir: Path, plan: RunPlan) -> None:
    """A resumed run continues the run in ``out_dir`` only if nothing that shapes its records
    changed: the command, the selected images and their checksums, compbench's version, the
    plugins' and the codec libraries' versions. Anything else is refused, before anything runs."""
    stored = read_manifest(out_dir / "manifest.json", fix="the folder holds no resumable run: use --overwrite "
                           "or another --out")
    config = stored.get("config")
    differ = [key for key in plan.config if config is None or config.get(key) != plan.config[key]]
    if differ:
        before = "(none recorded)" if config is None else ", ".join(f"{k}={config.get(k)!r}" for k in differ)
        raise CompbenchError(f"--resume: this command differs from the run in {out_dir} in "
                             f"{', '.join(differ)} (the run has {before}); repeat the run's own "
                             "command with --resume, or use --overwrite")
    for what, detail in changes(stored, plan.manifest):
        raise CompbenchError(f"--resume: {what} changed since the run in {out_dir} started: {detail}; its records "
                             "would mix the two: finish it with what it started with, or start afresh with "
                             "--overwrite")


def changes(stored: dict, now: dict):
    """(what, how) for each fact of the run's opening manifest that differs now, ``how`` naming
    the first thing that moved (``a.png added``, ``compbench-zoo 1.0 -> 2.0``). The dataset's
    files come before the selection: a file added, removed or changed is named."""
    facts = {
        "compbench's version": lambda m: {"compbench": m.get("compbench")},
        "the plugins": lambda m: dict(line.partition("==")[::2] for line in m.get("plugins", [])),
        "the codec libraries": lambda m: {f"{codec}'s {library}": version for codec, libraries
                                          in (m.get("codec_libraries") or {}).items()
                                          for library, version in (libraries or {}).items()},
        "the dataset's files": lambda m: m.get("dataset_checksums") or {},
        "the selected images": lambda m: {"the images' digest": m.get("images_digest")},
    }
    for what, read in facts.items():
        before, after = read(stored), read(now)
        moved = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
        if moved:
            more = f" (and {len(moved) - 1} more)" if len(moved) > 1 else ""
            yield what, _moved(moved[0], before.get(moved[0]), after.get(moved[0])) + more


def _moved(name: str, then, now) -> str:
    if then is None:
        return f"{name} added" + ("" if _is_digest(now) else f" ({now})")
    if now is None:
        return f"{name} removed" + ("" if _is_digest(then) else f" (was {then})")
    return f"{name} {_short(then)} -> {_short(now)}"


def _is_digest(value) -> bool:
    return isinstance(value, str) and len(value) == 64


def _short(value) -> str:
    return value[:12] if _is_digest(value) else str(value)  # a sha256: its head says enough

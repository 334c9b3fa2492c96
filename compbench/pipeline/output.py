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
        try:
            check_same_command(out_dir, plan)
        except BaseException:
            lock.release()
            raise
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
    for what, then, now in changes(stored, plan.manifest):
        raise CompbenchError(f"--resume: {what} changed since the run in {out_dir} started ({then} -> {now}); "
                             "its records would mix the two: finish it with what it started with, or start "
                             "afresh with --overwrite")


def changes(stored: dict, now: dict):
    """(what, before, now) for each fact of the run's opening manifest that differs now."""
    facts = {
        "compbench's version": lambda m: {"compbench": m.get("compbench")},
        "the plugins": lambda m: dict(line.partition("==")[::2] for line in m.get("plugins", [])),
        "the codec libraries": lambda m: {f"{codec} {library}": version for codec, libraries
                                          in (m.get("codec_libraries") or {}).items()
                                          for library, version in (libraries or {}).items()},
        "the selected images": lambda m: {"images": m.get("images_digest")},
        "the dataset's files": lambda m: m.get("dataset_checksums") or {},
    }
    for what, read in facts.items():
        before, after = read(stored), read(now)
        moved = sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
        if moved:
            name = moved[0]
            more = f" and {len(moved) - 1} more" if len(moved) > 1 else ""
            yield what, f"{name} {_short(before.get(name))}", f"{_short(after.get(name))}{more}"


def _short(value) -> str:
    text = "absent" if value is None else str(value)
    return text[:12] if len(text) == 64 else text  # a sha256: its head says enough

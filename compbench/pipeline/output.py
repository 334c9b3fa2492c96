"""The run's results folder: claimed for this run (a new default one, or ``--out`` new, resumed
or replaced) before any record is written."""

from __future__ import annotations

from pathlib import Path

from ..contracts.errors import CompbenchError
from ..store.folder import NEW, OVERWRITE, RESUME, claim_folder, default_folder
from ..store.manifest import read_manifest
from .plan import RunPlan


def claim_results_folder(plan: RunPlan) -> Path | None:
    """This run's folder (None for a run that writes none); a resumed run's command must be the
    one its manifest recorded."""
    output = plan.output
    if not output.write:
        return None
    if output.out is None:
        return default_folder(spec.name for spec in plan.specs)
    mode = RESUME if output.resume else OVERWRITE if output.overwrite else NEW
    out_dir = claim_folder(Path(output.out), mode)
    if output.resume:
        check_same_command(out_dir, plan.config)
    return out_dir


def check_same_command(out_dir: Path, config: dict) -> None:
    stored = read_manifest(out_dir / "manifest.json", fix="the folder holds no resumable run: use --overwrite "
                           "or another --out").get("config")
    differ = [key for key in config if stored is None or stored.get(key) != config[key]]
    if differ:
        before = "(none recorded)" if stored is None else ", ".join(f"{k}={stored.get(k)!r}" for k in differ)
        raise CompbenchError(f"--resume: this command differs from the run in {out_dir} in "
                             f"{', '.join(differ)} (the run has {before}); repeat the run's own "
                             "command with --resume, or use --overwrite")

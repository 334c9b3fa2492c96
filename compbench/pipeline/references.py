"""Reference curves added to a finished results folder (``compbench report --reference``): the
curves kept in references.csv and their BD rows against the run's codecs in
bdrate_references.csv, as a run given ``--reference`` writes them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..analysis.export import curves_csv
from ..analysis.references import STORED, STORED_BD, ReferenceCurve
from ..analysis.run_bd import reference_bd_table
from ..contracts.errors import CompbenchError
from ..metrics import DEFAULT_RD_METRICS
from ..store.files import write_atomic
from ..store.lock import locked
from ..store.results_folder import open_results


def attach_references(folder: str | Path, references: Sequence[ReferenceCurve]) -> list[Path]:
    """Write the curves and their BD rows (on the run's RD metrics) into ``folder``; returns the
    files written."""
    run = open_results(folder)
    qualities = tuple((run.manifest or {}).get("rd_metrics") or DEFAULT_RD_METRICS)
    table, notes = reference_bd_table(run.summary, references, qualities)
    if table is None:
        raise CompbenchError(f"no BD row for the references against {run.folder}: " +
                             ("; ".join(notes) or "no codec of the run ran at two or more settings (sweep one)"))
    with locked(run.folder):  # a results folder takes one writer
        return [write_atomic(run.folder / STORED, curves_csv(list(references))),
                write_atomic(run.folder / STORED_BD, table.to_csv(index=False))]

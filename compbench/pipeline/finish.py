"""The end of a run, from what its sink gathered: BD tables, figures, tables, the manifest
completed once, and the report; nothing is read back from what the run wrote."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..analysis.export import curves_csv
from ..analysis.references import STORED, STORED_BD
from ..analysis.run_bd import run_bd
from ..present.markdown import summary_markdown
from ..present.matched import match_settings, parse_compare_at
from ..present.report import PreparedPage, prepare, write_report
from ..present.report.inputs import run_inputs
from ..present.table_formats import TABLE_FORMATS, render_tables
from ..run.progress import phase
from ..store.files import write_atomic
from ..store.manifest import ManifestFile, RunStatus
from .plan import RunPlan
from .result import RunResult, Selection
from .sink import Gathered


def finish_run(plan: RunPlan, manifest: ManifestFile, out_dir: Path | None, gathered: Gathered) -> RunResult:
    """The run's result; with a folder, everything a run leaves behind is written. The BD tables,
    the tables' files and all of the report but its figures are made while the figures are
    drawn (in a child process, on a second core: they need nothing of each other's)."""
    rows = rows_of(plan.selection)
    result = RunResult(
        stored=gathered.records, summary=gathered.summary, out_dir=out_dir, manifest=manifest.facts,
        selection=Selection(plan.source, np.asarray(plan.selection), plan.class_names),
        samples={label: {rows[p]: image for p, image in by.items()} for label, by in gathered.samples.items()},
        class_names=plan.class_names,
        panels={label: {rows[p]: named for p, named in by.items()} for label, by in gathered.panels.items()},
        rd_metrics=plan.rd_metrics, references=plan.references,
        sample_records=gathered.sample_records, failures=gathered.failures)
    ending = {"notes": gathered.notes, "seconds": round(time.perf_counter() - plan.clock, 3),
              "status": RunStatus.INCOMPLETE if gathered.refused or gathered.lost else RunStatus.COMPLETE, "errors": gathered.errors,
              "bd": None}  # filled in by add_bd
    if gathered.refused:
        ending["refused"] = gathered.refused
    if gathered.lost:
        ending["lost"] = gathered.lost
    if gathered.metric_errors:
        ending["metric_errors"] = gathered.metric_errors

    def add_bd() -> None:
        bd = run_bd(gathered.summary, plan.output.anchor, plan.rd_metrics, plan.references)
        result.bdrate, result.bd_anchor, result.bd_reason = bd.table, bd.anchor, bd.reason
        result.reference_bdrate = bd.references
        ending["bd"] = bd.facts(plan.references)

    if out_dir is None:
        add_bd()
        result.manifest = manifest.complete(**ending)
        return result
    # one choice of settings at matched rates for Fig. 7, the bars and the report's crops
    target = parse_compare_at(plan.output.compare_at, plan.metrics)
    matched = match_settings(result.summary, target, plan.metrics)
    prepared: list[PreparedPage] = []

    def tables_and_report() -> None:
        """What needs no figure: the BD tables, the tables' files, the report but its figures."""
        add_bd()
        result.manifest = {**manifest.facts, **ending}
        write_tables(result, out_dir, plan.output.table_format)
        prepared.append(prepare(run_inputs(result, gathered.per_image, target)))

    if plan.output.figures:
        phase("figures", plan.output.progress)  # before matplotlib's import: seconds on a busy machine
        from ..present.grids import write_run_figures  # matplotlib loads only when a run draws

        ending["figures"] = [p.name for p in write_run_figures(result, out_dir, plan.output.figure_formats,
                                                               matched=matched, paper=plan.paper_figures,
                                                               meanwhile=tables_and_report)]
    else:
        tables_and_report()
    result.manifest = manifest.complete(**ending)
    phase("report", plan.output.progress)
    write_report(out_dir, prepared[0].with_manifest(result.manifest))
    return result


def write_tables(result: RunResult, out_dir: Path, table_format: str) -> None:
    """summary.csv, summary.md, bdrate.csv, the reference curves (references.csv) with their BD
    rows (bdrate_references.csv) and, for a format other than Markdown, the tables in it
    (summary.tex for LaTeX)."""
    if result.bdrate is not None:
        write_atomic(out_dir / "bdrate.csv", result.bdrate.to_csv(index=False))
    if result.references:  # the curves themselves too: the folder stays readable without the files
        write_atomic(out_dir / STORED, curves_csv(list(result.references)))
    if result.reference_bdrate is not None:
        write_atomic(out_dir / STORED_BD, result.reference_bdrate.to_csv(index=False))
    write_atomic(out_dir / "summary.csv", result.summary.to_csv(index=False))
    write_atomic(out_dir / "summary.md", summary_markdown(result.summary, result.manifest, result.bdrate))
    if table_format not in ("github", "pipe"):
        write_atomic(out_dir / f"summary.{TABLE_FORMATS[table_format]}",
                     render_tables(result.summary, table_format, result.bdrate, result.manifest))


def rows_of(selection) -> dict[int, int]:
    """Position -> row of the selection (Python ints: looping over numpy ints costs 1-2 us each)."""
    return {p: i for i, p in enumerate(np.asarray(selection, dtype=np.int64).tolist())}

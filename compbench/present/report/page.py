"""Everything the report template shows, as one context: each section's view built from the
inputs, the sections present in page order, and the JSON behind the interactive parts."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

from ...metrics import MetricSet
from ..matched import Matched, match_settings
from ..per_image import WORST_COUNT
from . import assets
from .bd_view import bd_view
from .chart_data import bd_data, metric_meta, rd_data
from .comparison_view import comparison, worst_tables
from .figures_view import figure_groups, paper_heading
from .inputs import ReportInputs
from .manifest_view import header_facts, manifest_tree
from .summary_view import definitions_table, failures_table, overall_table, per_class_tables

MAX_FAILURES = 50
#: rows a page of the per-image table shows
PAGE_ROWS = 50
#: (section id, heading) in page order; a section is listed when the context has it
SECTIONS = (("overall", "Overall"), ("rd", "Rate-distortion"), ("bd-rate", "BD-rate"),
            ("comparison", "Matched rates"), ("per-image", "Per image"), ("per-class", "Per class"),
            ("paper", "Paper figures"), ("failures-section", "Failed images"), ("other-figures", "Other figures"),
            ("metrics", "Metric definitions"), ("manifest", "Manifest"))
PAPER_NOTE = ("The DDCAE paper's figures, drawn for MNIST-like datasets (or with --paper-figures): Fig. 6 shows "
              "a learned codec's input, code and reconstruction; Figs. 8-10 the paper's per-class entropy, bpp "
              "and SNR beside the honest SNR, at the matched-rate settings.")


@dataclass(frozen=True)
class PreparedPage:
    """The costly part of a page: its tables, crops and the data behind its charts and per-image
    tables, from its inputs without the folder's figures. A run prepares it while its figures
    are drawn; :func:`complete` adds the figures and the manifest's facts once they are done."""

    inputs: ReportInputs
    views: dict
    #: notes of the prepared part (plotly missing)
    problems: tuple[str, ...] = ()

    def with_manifest(self, manifest: dict | None) -> PreparedPage:
        """The same page over a newer manifest of the same run (the one its figures completed)."""
        return replace(self, inputs=replace(self.inputs, manifest=manifest))


def prepare(inputs: ReportInputs) -> PreparedPage:
    """Every view of the page but those of the folder's figures and the manifest."""
    declared, summary = inputs.declared, inputs.summary
    matched = match_settings(summary, inputs.target, declared) if summary is not None else None
    views = {"summary_missing": summary is None, "matched": matched,
             "matched_caption": matched.caption(declared) if matched else "",
             "definitions": definitions_table(declared),
             **_tables(inputs, declared, matched), **_comparison(inputs, matched, declared)}
    interactive, problems = _interactive(inputs, declared, matched)
    return PreparedPage(inputs, {**views, **interactive}, problems)


def complete(prepared: PreparedPage, results_dir: Path) -> dict:
    """The page's whole context: the prepared views, the folder's figures, the manifest's facts."""
    inputs = prepared.inputs
    manifest, declared = inputs.manifest, inputs.declared
    problems = list(inputs.problems) + [f"metric not measured on {count} image(s): {note}" for note, count in
                                        ((manifest or {}).get("metric_errors") or {}).items()]
    figures = figure_groups(results_dir, problems, declared)
    crops = prepared.views["comparison"]
    page = {**prepared.views, "title": _title(manifest), "facts": header_facts(manifest, inputs.summary),
            "command": (manifest or {}).get("command"), "problems": problems + list(prepared.problems),
            "other_figures": figures["other"], "rd_figures": figures["rd"],
            # with the crops on the page, Fig. 7 (the same images and settings, for papers) stays a
            # file: embedded, a sweep of photographs' Fig. 7 alone is 5 MB of the report
            "comparison_files": [f.file for f in figures["comparison"]] if crops else [],
            "comparison_figures": [] if crops else figures["comparison"],
            **_manifest(manifest), **_paper(figures["paper"])}
    page["nav"] = [(ident, heading) for ident, heading in SECTIONS if _present(page, ident)]
    return page


def _title(manifest: dict | None) -> str:
    run = (manifest or {}).get("run", {})
    return f"compbench report: {run.get('dataset', '?')} / {run.get('split', '?')}"


def _tables(inputs: ReportInputs, declared: MetricSet, matched: Matched | None) -> dict:
    summary, failures = inputs.summary, inputs.failures
    more = ""
    if failures is not None and len(failures) > MAX_FAILURES:
        more = f"The first {MAX_FAILURES} of {len(failures)}; all are in records.csv."
    return {"overall": overall_table(summary, declared, matched) if summary is not None else None,
            "per_class": per_class_tables(summary, declared) if summary is not None else [],
            "bd": bd_view(inputs.bdrate), "failures": failures_table(failures, MAX_FAILURES),
            "failures_more": more}


def _comparison(inputs: ReportInputs, matched: Matched | None, declared: MetricSet) -> dict:
    metric = inputs.per_image.worst_metric if inputs.per_image is not None else "psnr"
    note = ""
    if matched is not None and not inputs.samples:
        note = ("No reconstructions are kept in a results folder, so this page (written from the folder) has "
                "no crops; the run's own report has them, and Fig. 7 shows the same settings.")
    return {"comparison": comparison(inputs.samples, matched, declared), "comparison_note": note,
            "worst": worst_tables(inputs.per_image, matched, declared, inputs.names),
            "worst_count": WORST_COUNT, "worst_metric": declared.describe(metric).label}


def _manifest(manifest: dict | None) -> dict:
    if manifest is None:
        return {"manifest": None, "manifest_json": ""}
    return {"manifest": manifest_tree(manifest), "manifest_json": json.dumps(manifest, indent=2, default=str)}


def _paper(figures: list) -> dict:
    if not figures:
        return {"paper": None}
    return {"paper": {"heading": paper_heading(figures), "figures": figures, "note": PAPER_NOTE}}


def _interactive(inputs: ReportInputs, declared: MetricSet, matched: Matched | None) -> tuple[dict, tuple[str, ...]]:
    """The JSON of the charts and per-image tables, the scripts that draw them, and a note when
    the charts cannot be drawn."""
    script = assets.plotly_js()
    rd = rd_data(inputs.summary, declared, matched, inputs.reference_curves) if script else None
    bd = bd_data(inputs.bdrate, inputs.bd_matrix) if script else None
    per_image = _per_image(inputs, declared, matched)
    problems = ()
    if script is None and inputs.summary is not None:
        problems = ("plotly is not installed here, so the charts are the static figures only "
                    "(pip install plotly, then compbench report FOLDER)",)
    return {"rd": rd is not None, "bd_chart": bool(bd and bd["cells"]),
            "bd_square": bool(bd and bd["matrix"]), "per_image": per_image and {
                "records": f"{len(inputs.per_image):,}", "page": PAGE_ROWS},
            "charts": bool(rd or bd or per_image), "data": {"rd": rd, "bd": bd, "perImage": per_image},
            "plotly_js": script or "", "report_js": assets.page_script(), "css": assets.stylesheet()}, problems


def _per_image(inputs: ReportInputs, declared: MetricSet, matched: Matched | None) -> dict | None:
    table = inputs.per_image
    if table is None or not len(table):
        return None
    packed = table.packed(inputs.names)
    settings = packed["settings"].values()
    metrics = [name for name in table.metrics if any(name in s["columns"] for s in settings)]
    meta = metric_meta(metrics, declared)
    for name in metrics:  # a column of whole numbers everywhere (bytes) has no decimals to show
        if all(s["columns"].get(name, {}).get("integer", name not in s["columns"]) for s in settings):
            meta[name]["decimals"] = 0
    first = next(iter(matched.settings.values())) if matched and matched.settings else table.settings[0]
    return {**packed, "meta": meta, "page": PAGE_ROWS, "initial": first,
            "codecs": {setting: table.codec_of(setting) for setting in table.settings}}


def _present(page: dict, ident: str) -> bool:
    key = {"overall": "overall", "rd": "rd", "bd-rate": "bd", "per-image": "per_image", "per-class": "per_class",
           "paper": "paper", "failures-section": "failures", "other-figures": "other_figures",
           "metrics": "definitions", "manifest": "manifest"}.get(ident)
    if ident == "comparison":
        return bool(page["comparison"] or page["comparison_figures"])
    if ident == "overall":
        return bool(page["overall"] or page["summary_missing"])
    return bool(page.get(key)) or ident == "manifest"

"""What a report shows: a run's own (handed over by its finish, nothing read back) or a stored
folder's (:func:`read_inputs`: summary, manifest, bdrate.csv, and records.csv a chunk at a time
for the per-image tables)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ...contracts.errors import CompbenchError
from ...metrics import MetricSet
from ...store.names import written_name
from ...store.results_folder import ResultsFolder, open_results
from ..matched import Target, parse_compare_at
from ..per_image import PerImage
from ..side_by_side import Sample, pick_samples
from .chart_data import ReferenceCurve
from .comparison_view import sample_stats

#: what the failures table keeps of a failed record
FAILURE_COLUMNS = ["setting", "index", "class", "error"]


@dataclass
class ReportInputs:
    """What a report shows, other than the folder's figures."""

    summary: pd.DataFrame | None
    manifest: dict | None
    bdrate: pd.DataFrame | None = None
    #: failed images in record order (setting, index, class, error)
    failures: pd.DataFrame | None = None
    #: what could not be read, one line each
    problems: list[str] = field(default_factory=list)
    #: every image's values by setting (the per-image tables; worst images)
    per_image: PerImage | None = None
    #: image id -> its name (a photograph's file name), where the dataset names its images
    names: dict[int, str] = field(default_factory=dict)
    #: originals and reconstructions of a few images (the crops at matched rates): a run has
    #: them, a stored folder does not
    samples: Sequence[Sample] = ()
    #: the rate or quality the visual comparisons match (default: the median bpp)
    target: Target | None = None
    #: issue 19's hooks: a codec x codec BD-rate matrix (rows: tested codec, columns: anchor,
    #: values in %) and published curves to draw beside the run's
    bd_matrix: pd.DataFrame | None = None
    reference_curves: Sequence[ReferenceCurve] = ()

    @property
    def declared(self) -> MetricSet:
        return MetricSet.stored(self.manifest)


def read_inputs(results_dir: Path, compare_at: str | None = None) -> ReportInputs:
    """A stored folder's report inputs; a damaged part becomes a note on the page.
    ``compare_at`` ("bpp=0.5"): the matched-rate target, default the run's own."""
    stored = open_results(results_dir, strict=False)
    declared = MetricSet.stored(stored.manifest)
    presentation = (stored.manifest or {}).get("presentation") or {}
    target = parse_compare_at(compare_at or presentation.get("compare_at"), declared)  # before the long read
    per_image, failures = _from_records(stored, declared)
    return ReportInputs(stored.summary, stored.manifest, stored.table("bdrate.csv"), failures, stored.problems,
                        per_image=per_image, target=target, reference_curves=_stored_curves(stored))


def _stored_curves(stored: ResultsFolder) -> list[ReferenceCurve]:
    """The reference curves the folder keeps (references.csv); a damaged file is a note."""
    from ...analysis.references import stored_references

    try:
        return chart_curves(stored_references(stored.folder))
    except CompbenchError as exc:
        stored.problems.append(str(exc))
        return []


def _from_records(stored: ResultsFolder, declared: MetricSet) -> tuple[PerImage | None, pd.DataFrame | None]:
    """records.csv read once, a chunk at a time: every image's values and the failed ones."""
    if not (stored.folder / "records.csv").exists():
        return None, None
    worst = ((stored.manifest or {}).get("rd_metrics") or ["psnr"])[0]
    table, failed = PerImage(declared.names, declared, worst_metric=worst), []
    try:
        for chunk in stored.records():
            table.add(chunk)
            # records.csv is in setting order: all but the chunk's last setting are complete
            table.settle_all(keep=str(chunk["setting"].iloc[-1]) if len(chunk) else None)
            if "error" in chunk:
                failed.append(chunk.loc[chunk["error"] != "", [c for c in FAILURE_COLUMNS if c in chunk]])
    except CompbenchError as exc:
        stored.problems.append(str(exc))
        return None, None
    failures = pd.concat(failed, ignore_index=True) if failed else None
    return table, failures if failures is not None and len(failures) else None


def run_inputs(result, per_image: PerImage | None = None, target: Target | None = None) -> ReportInputs:
    """A finished run's report inputs (``result``: an ``api.RunResult``): its summary, manifest,
    BD tables and failures, every image's values as the sink gathered them, and the sample
    images with their reconstructions for the crops. Nothing is read back from the folder."""
    names = image_names(result.selection)
    return ReportInputs(result.summary, result.manifest, result.bdrate, result.failures, per_image=per_image,
                        names=names, samples=samples_of(result, names), target=target,
                        reference_curves=chart_curves(getattr(result, "references", ())))


def chart_curves(curves) -> list[ReferenceCurve]:
    """Published curves (``analysis.references.ReferenceCurve``: bpp and one list per quality
    metric) as the RD chart draws them: one dashed line per quality metric."""
    return [ReferenceCurve(curve.label, "bpp", metric, tuple(curve.bpp), tuple(values), curve.source)
            for curve in curves for metric, values in curve.qualities]


def image_names(selection) -> dict[int, str]:
    """Image id -> name (a file's, without its folder, escaped as results write names) where
    the dataset names its images."""
    source = selection.source
    names = getattr(source, "names", ()) or ()
    if not names:
        return {}
    indices = np.asarray(source.indices)
    return {int(indices[p]): written_name(Path(str(names[p])).name) for p in np.asarray(selection.positions).tolist()
            if p < len(names) and names[p]}


def samples_of(result, names: dict[int, str]) -> list[Sample]:
    """The sample images (the rows of Fig. 7), one per class first, each with every setting's
    reconstruction and that image's bpp and PSNR."""
    rows = sorted({int(r) for by_row in result.samples.values() for r in by_row})
    if not rows:
        return []
    labels = result.selection.labels[rows]
    picked = [rows[k] for k in pick_samples(labels)]
    indices = result.selection.indices[picked]
    originals = result.selection.read(picked)
    records = result.sample_records
    found = []
    for row, index, original, label in zip(picked, indices.tolist(), originals, result.selection.labels[picked]):
        reconstructions = {setting: by_row.get(row) for setting, by_row in result.samples.items()}
        stats = {setting: sample_stats(records, setting, index) for setting in result.samples}
        found.append(Sample(int(index), _class_name(result.class_names, int(label)), names.get(int(index), ""),
                            np.asarray(original), reconstructions, stats))
    return found


def _class_name(class_names, label: int) -> str:
    return str(class_names[label]) if 0 <= label < len(class_names) else str(label)

"""What a report shows: a run's own (handed over by its finish, nothing read back) or a stored
folder's (:func:`read_inputs`: summary, manifest, bdrate.csv, and records.csv a chunk at a time
for the per-image tables)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ...contracts.errors import CompbenchError
from ...metrics import MetricSet
from ...store.results_folder import ResultsFolder, open_results
from ..matched import Target
from ..per_image import PerImage
from ..side_by_side import Sample
from .chart_data import ReferenceCurve

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


def read_inputs(results_dir: Path, target: Target | None = None) -> ReportInputs:
    """A stored folder's report inputs; a damaged part becomes a note on the page."""
    stored = open_results(results_dir, strict=False)
    declared = MetricSet.stored(stored.manifest)
    per_image, failures = _from_records(stored, declared)
    presentation = (stored.manifest or {}).get("presentation") or {}
    if target is None and presentation.get("compare_at"):
        from ..matched import parse_compare_at

        target = parse_compare_at(presentation["compare_at"], declared)
    return ReportInputs(stored.summary, stored.manifest, stored.table("bdrate.csv"), failures, stored.problems,
                        per_image=per_image, target=target)


def _from_records(stored: ResultsFolder, declared: MetricSet) -> tuple[PerImage | None, pd.DataFrame | None]:
    """records.csv read once, a chunk at a time: every image's values and the failed ones."""
    if not (stored.folder / "records.csv").exists():
        return None, None
    table, failed = PerImage(declared.names), []
    try:
        for chunk in stored.records():
            table.add(chunk)
            if "error" in chunk:
                failed.append(chunk.loc[chunk["error"] != "", [c for c in FAILURE_COLUMNS if c in chunk]])
    except CompbenchError as exc:
        stored.problems.append(str(exc))
        return None, None
    failures = pd.concat(failed, ignore_index=True) if failed else None
    return table, failures if failures is not None and len(failures) else None

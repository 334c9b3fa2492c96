"""A run's BD tables, never silently absent: the anchor is chosen by one rule, and when no table
can be made the reason is kept, in one line, for the terminal, the manifest and the report.

The anchor: ``--anchor`` when given (the plan refuses one that is not in the run), else
jpeg2000 when it ran at two or more settings, else the first codec of the run that did.
Reference curves (:mod:`.references`) get rows of their own: each against every codec of the
run that has a curve, the anchor among them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..defaults import DEFAULT_ANCHOR
from ..store.summary import ALL
from .bdrate import METHOD, TABLE_COLUMNS, bd_row, bd_table, summary_curves
from .references import ReferenceCurve

#: a curve needs two points
CURVE_SETTINGS = 2


@dataclass(frozen=True)
class RunBD:
    """What a run's BD step found."""

    #: every codec against the anchor, per quality metric, overall and per class (None: ``reason``)
    table: pd.DataFrame | None
    anchor: str | None
    #: why there is no table, one line (None when there is one)
    reason: str | None = None
    #: each reference curve against each codec with a curve (columns of :data:`TABLE_COLUMNS`)
    references: pd.DataFrame | None = None
    #: one line each: references that share no metric with the run's BD axes
    notes: tuple[str, ...] = ()

    def facts(self, references: Sequence[ReferenceCurve] = ()) -> dict:
        """For manifest.json's ``bd``: the anchor, the method, the reason and the references."""
        return {"anchor": self.anchor, "method": METHOD, "reason": self.reason, "notes": list(self.notes),
                "references": [{"name": r.name, "source": r.source, "description": r.description}
                               for r in references]}


def settings_per_codec(summary: pd.DataFrame) -> pd.Series:
    """Codec -> its number of settings, in run order."""
    return summary[summary["class"] == ALL].groupby("codec", sort=False)["setting"].nunique()


def default_anchor(summary: pd.DataFrame) -> str | None:
    """jpeg2000 when it ran at two or more settings, else the first codec of the run that did;
    None when no codec has a curve."""
    settings = settings_per_codec(summary)
    curves = [codec for codec, n in settings.items() if n >= CURVE_SETTINGS]
    if DEFAULT_ANCHOR in curves:
        return DEFAULT_ANCHOR
    return curves[0] if curves else None


def no_bd_reason(summary: pd.DataFrame, anchor: str | None) -> str | None:
    """Why no BD table can be made against ``anchor`` (one line), or None when one can."""
    settings = settings_per_codec(summary)
    if summary.empty or anchor is None or not (settings >= CURVE_SETTINGS).any():
        return ("no BD-rate: every codec ran at one setting, and BD compares rate-quality curves; run a "
                "sweep (--sweep) or a range (jpeg:quality=10..90/20)")
    if settings.get(anchor, 0) < CURVE_SETTINGS:
        return (f"no BD-rate: the anchor {anchor} ran at one setting; sweep it too, or name a codec that ran at "
                "several with --anchor")
    if len(settings) == 1:
        return (f"no BD-rate: {anchor} is the only codec of the run, and BD compares two codecs' curves; add "
                "another (e.g. --codecs jpeg,jpeg2000 --sweep)")
    if (settings.drop(anchor) < CURVE_SETTINGS).all():
        return (f"no BD-rate: only the anchor {anchor} ran at two or more settings, and BD compares two curves; "
                "sweep another codec too")
    return None


def run_bd(summary: pd.DataFrame, anchor: str | None, qualities: Sequence[str],
           references: Sequence[ReferenceCurve] = ()) -> RunBD:
    """A run's BD tables against ``anchor`` (None: :func:`default_anchor`) for each quality
    metric, and the reference curves' rows."""
    anchor = anchor or default_anchor(summary)
    reason = no_bd_reason(summary, anchor)
    table = None if reason else pd.concat([bd_table(summary, anchor, quality=q, by_class=True) for q in qualities],
                                          ignore_index=True)
    by_reference, notes = reference_bd_table(summary, references, qualities)
    return RunBD(table, anchor, reason, by_reference, notes)


def reference_bd_table(summary: pd.DataFrame, references: Sequence[ReferenceCurve], qualities: Sequence[str],
                       ) -> tuple[pd.DataFrame | None, tuple[str, ...]]:
    """Each reference curve (the test) against each codec of the run with a curve (the anchor),
    over all images, for each quality metric both have; and a note for each reference that
    shares no metric with ``qualities``."""
    settings = settings_per_codec(summary)
    codecs = [codec for codec, n in settings.items() if n >= CURVE_SETTINGS]
    rows, notes = [], []
    for reference in references:
        shared = [q for q in qualities if q in reference.metrics]
        if not shared:
            notes.append(f"reference {reference.name} ({reference.source}) has {', '.join(reference.metrics)}, none of "
                         f"this run's BD metrics ({', '.join(qualities)}): add one with --rd-metrics")
        for quality in shared:
            curves = summary_curves(summary, quality)
            for codec in codecs:
                rows.append({"codec": reference.label, "anchor": codec, "class": ALL,
                             **bd_row(curves[codec, ALL], reference.curve(quality),
                                      anchor=codec, test=reference.label, quality=quality)})
    table = pd.DataFrame(rows, columns=TABLE_COLUMNS) if rows else None
    return table, tuple(notes)

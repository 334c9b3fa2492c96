"""Regression tracking: compare a new run with a baseline, metric by metric (design §7).

Rows are matched by (codec, setting, dataset, split, class). Each metric's declaration says
which way is better, whether it is gated and whether it is a timing: the new run's manifest
first, then the baseline's, then the installed plugins', then the core declarations (a folder
written before runs recorded them). A move beyond its tolerance (:mod:`.tolerances`) the wrong
way is a regression, the right way an improvement. Runs are deterministic, so the default
tolerance only absorbs float noise. Metrics with no better direction (entropy, snr_paper,
lossless, an undeclared column) or declared ungated are shown, not gated, unless named in
``metrics``; timings are left out unless ``include_timings``, because they depend on the
machine. Whether two runs can be compared at all is :mod:`.inputs`'s; showing the result is
:mod:`compbench.present.comparison`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import pandas as pd

from ..contracts.errors import CompbenchError, did_you_mean
from ..metrics import CORE_NAMES, HIGHER, NO_DIRECTION, Better, MetricSet
from ..store.results_folder import (
    KEYS,
    ResultsFolder,
    metric_column,
    name_rows,
    open_results,
    summary_metrics,
)
from .inputs import check_same_inputs, check_same_rows, version_warnings
from .scope import comparison_scope
from .tolerances import DEFAULT_TOLERANCE, TIMING_TOLERANCE, Tolerance, parse_tolerance


class Status(StrEnum):
    """What happened to one metric value between the runs."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"
    UNCHANGED = "unchanged"
    #: moved beyond tolerance, but the metric is not gated
    CHANGED = "changed"


REGRESSION, IMPROVEMENT, UNCHANGED, CHANGED = Status.REGRESSION, Status.IMPROVEMENT, Status.UNCHANGED, Status.CHANGED


@dataclass
class Comparison:
    """One row per (summary row, metric): the keys, metric, better ("lower"/"higher"/"none"),
    gated, baseline, new, delta, delta_pct, tolerance, status."""

    table: pd.DataFrame
    warnings: list[str]
    baseline: str
    new: str
    #: the metrics' declarations (how values read)
    declared: MetricSet | None = None

    def _with(self, status: Status) -> pd.DataFrame:
        return self.table[self.table["status"] == status]

    @property
    def regressions(self) -> pd.DataFrame:
        return self._with(REGRESSION)

    @property
    def improvements(self) -> pd.DataFrame:
        return self._with(IMPROVEMENT)

    @property
    def changed(self) -> pd.DataFrame:
        """Moved beyond tolerance but not gated (informational metrics, ungated timings)."""
        return self._with(CHANGED)

    @property
    def unchanged(self) -> pd.DataFrame:
        return self._with(UNCHANGED)

    @property
    def passed(self) -> bool:
        return self.regressions.empty

    def summary_line(self) -> str:
        counts = [f"{len(self.regressions)} regression(s)", f"{len(self.improvements)} improvement(s)"]
        if len(self.changed):
            counts.append(f"{len(self.changed)} changed (not gated)")
        counts.append(f"{len(self.unchanged)} unchanged")
        return f"{'PASS' if self.passed else 'FAIL'}: {', '.join(counts)} ({self.baseline} -> {self.new})"


def exit_code(comparison: Comparison) -> int:
    """1 if anything regressed, else 0 (bad input raises CompbenchError, exit 2)."""
    return 0 if comparison.passed else 1


def compare(baseline: str | Path, new: str | Path, tolerances: dict | None = None,
            metrics: list[str] | None = None, include_timings: bool = False,
            codecs: list[str] | None = None, only_common: bool = False) -> Comparison:
    """Compare the run at ``new`` with the one at ``baseline`` (results folders or summary.csv).

    ``tolerances``: metric -> Tolerance, number (absolute), "1%" or {"abs": .., "rel": ..};
    metrics not named keep DEFAULT_TOLERANCE (TIMING_TOLERANCE for timings).
    ``metrics``: compare and gate only these (informational ones included); default: every
    metric, gating those with a better direction. Timings are gated only with
    ``include_timings``. ``codecs``: gate only these codecs (on both sides); ``only_common``:
    only the settings both runs have (else a baseline setting the new run lacks is an error).
    Runs over different images are an error either way.
    """
    base, fresh = open_results(baseline), open_results(new)
    check_same_inputs(base, fresh)
    scope = comparison_scope(base.summary, fresh.summary, codecs, only_common)
    check_same_rows(scope.base, scope.new)
    base_metrics, new_metrics = _measured(scope.base, scope.new), _measured(scope.new, scope.base)
    declared = declarations(base, fresh, set(base_metrics) | set(new_metrics))
    plan = _plan(metrics, [m for m in base_metrics if m in new_metrics], include_timings, declared)
    chosen = {name: parse_tolerance(value, where=f"tolerance {name}")
              for name, value in (tolerances or {}).items()}
    if metrics is None:
        _check_gated_on_both_sides(base_metrics, new_metrics, include_timings, declared)

    warnings = [*scope.notes, *version_warnings(base.manifest, fresh.manifest)]
    extra = scope.new.merge(scope.base[KEYS], on=KEYS, how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"]
    if len(extra):
        warnings.append(f"the new run has rows the baseline lacks (not compared): {name_rows(extra)}")
    unused = [name for name in chosen if name not in plan]
    if unused:
        warnings.append(f"tolerance(s) for {', '.join(unused)} match no compared metric "
                        f"(compared: {', '.join(plan)})")
    return Comparison(_judge_rows(scope.base, scope.new, plan, chosen, declared), warnings,
                      str(baseline), str(new), declared)


def _measured(summary: pd.DataFrame, other: pd.DataFrame) -> list[str]:
    """The summary's metrics, less those the other side lacks and this side has no value of in
    the compared rows (a codec's own metric, when only other codecs are compared)."""
    shared = set(summary_metrics(other))
    return [m for m in summary_metrics(summary)
            if m in shared or summary[metric_column(summary, m)].notna().any()]


def _check_gated_on_both_sides(base_metrics: list[str], new_metrics: list[str], include_timings: bool,
                               declared: MetricSet) -> None:
    """A metric the gate would judge must be on both sides: a missing one is neither a pass nor
    a regression but a run that does not match its baseline."""
    for side, mine, theirs in (("baseline", base_metrics, new_metrics), ("new run", new_metrics, base_metrics)):
        missing = [m for m in mine if m not in theirs and _plan(None, [m], include_timings, declared).get(m)]
        if missing:
            other = "new run" if side == "baseline" else "baseline"
            raise CompbenchError(f"gated metric(s) {', '.join(missing)} are in the {side} but not the {other}: "
                                 "regenerate the baseline with this compbench, or gate only shared metrics "
                                 "with --gate-metrics")


def declarations(base: ResultsFolder, new: ResultsFolder, names: set[str]) -> MetricSet:
    """What each metric of the two runs is: the new run's manifest, the baseline's, then (only
    for a metric neither declares, e.g. a column of folders written before runs recorded their
    declarations) the installed plugins' and codecs'."""
    declared = MetricSet.stored(new.manifest).merged(MetricSet.stored(base.manifest))
    unknown = {n for n in names if n not in declared and n not in CORE_NAMES}
    if unknown:
        from ..contracts.registry import build_registry  # loading plugins costs; only when needed

        registry = build_registry()
        installed = [r.obj for r in registry.metrics.values()]
        installed += [m for r in registry.codecs.values() for m in getattr(r.obj, "metrics", ())]
        declared = declared.merged(MetricSet(m for m in installed if m.name in unknown))
    return declared


TABLE_COLUMNS = KEYS + ["metric", "better", "gated", "baseline", "new", "delta", "delta_pct",
                        "tolerance", "status"]


def _judge_rows(base: pd.DataFrame, new: pd.DataFrame, plan: dict[str, bool],
                tolerances: dict[str, Tolerance], declared: MetricSet) -> pd.DataFrame:
    merged = base.merge(new, on=KEYS, suffixes=("@base", "@new"))
    values = {metric: (merged[f"{column}@base"].to_numpy(float), merged[f"{column}@new"].to_numpy(float))
              for metric in plan for column in [metric_column(base, metric)]}
    rows = []
    # row by row, then metric by metric: what moved in one setting and class reads together
    for i, key in enumerate(merged[KEYS].to_dict("records")):
        for metric, gated in plan.items():
            what = declared.describe(metric)
            tolerance = tolerances.get(metric, TIMING_TOLERANCE if what.timing else DEFAULT_TOLERANCE)
            better = what.better
            before, after = float(values[metric][0][i]), float(values[metric][1][i])
            delta = 0.0 if before == after else after - before
            rows.append([*key.values(), metric, better, gated, before, after, delta,
                         100 * delta / abs(before) if before and math.isfinite(before) else math.nan,
                         str(tolerance), judge(before, after, better, tolerance, gated)])
    return pd.DataFrame(rows, columns=TABLE_COLUMNS)


def _plan(metrics: list[str] | None, available: list[str], include_timings: bool,
          declared: MetricSet) -> dict[str, bool]:
    """metric -> gated, in summary order."""
    timing = {m: declared.describe(m).timing for m in available}
    if metrics is None:
        return {m: _gated_by_default(declared.describe(m)) for m in available
                if not timing[m] or include_timings}
    unknown = [m for m in metrics if m not in available]
    if unknown:
        raise CompbenchError(f"no metric {', '.join(map(repr, unknown))} in both runs"
                             f"{did_you_mean(unknown[0], available)}metrics: {', '.join(available)}")
    return {m: not timing[m] or include_timings for m in dict.fromkeys(metrics)}


def _gated_by_default(metric) -> bool:
    return metric.gated and metric.better != NO_DIRECTION


def judge(before: float, after: float, better: Better, tolerance: Tolerance, gated: bool) -> Status:
    """The status of one metric value. inf == inf is unchanged; inf -> finite PSNR is a
    regression (no finite tolerance covers an infinite gap); a value that became NaN (every
    image failed) moved the wrong way."""
    if before == after or (math.isnan(before) and math.isnan(after)):
        return UNCHANGED
    if math.isnan(after) or math.isnan(before):
        worse = math.isnan(after)
    else:
        if math.isfinite(before) and math.isfinite(after) and abs(after - before) <= tolerance.allowed(before):
            return UNCHANGED
        worse = after < before if better == HIGHER else after > before
    if not gated:
        return CHANGED
    if better == NO_DIRECTION:  # the user pinned a metric with no better side: any move fails
        return REGRESSION
    return REGRESSION if worse else IMPROVEMENT

"""A gate on curves, as Xiph's AWCY gates codec changes: NEW fails when a codec's BD-rate
(PSNR, all images) against BASE is worse than +PCT %.

A figure that cannot be trusted is never a pass: curves that overlap over less than half of
either one's PSNR range, an undefined BD-rate, a baseline codec the new run lacks, or nothing
compared at all make the verdict undecided (exit code 2), naming the codec and why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from .bdrate import MIN_OVERLAP
from .curves import CurveComparison

#: the quality the gate judges BD-rate on
GATED_QUALITY = "psnr"


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    UNDECIDED = "undecided"


@dataclass(frozen=True)
class Finding:
    codec: str
    new: str
    outcome: Outcome
    #: one line: the codec, its figure and the verdict
    line: str
    bd_rate_pct: float = math.nan
    coverage: float = math.nan


@dataclass(frozen=True)
class GateVerdict:
    limit_pct: float
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        """2 when any figure could not be judged, else 1 when any is worse than the limit, else 0."""
        outcomes = {finding.outcome for finding in self.findings}
        return 2 if Outcome.UNDECIDED in outcomes or not outcomes else 1 if Outcome.FAIL in outcomes else 0

    def summary_line(self) -> str:
        counts = {o: sum(f.outcome == o for f in self.findings) for o in Outcome}
        word = {0: "PASS", 1: "FAIL", 2: "UNDECIDED"}[self.exit_code]
        return (f"{word}: BD-rate ({GATED_QUALITY}) limit +{self.limit_pct:g}%: {counts[Outcome.FAIL]} worse, "
                f"{counts[Outcome.UNDECIDED]} undecided, {counts[Outcome.PASS]} within")


def gate_curves(comparisons: Sequence[CurveComparison], limit_pct: float, only_common: bool = False) -> GateVerdict:
    """Judge every compared codec of every comparison; a baseline codec missing from a new run
    is undecided unless ``only_common``."""
    findings: list[Finding] = []
    for comparison in comparisons:
        if GATED_QUALITY not in comparison.qualities:
            why = f"no {GATED_QUALITY} curve in both runs" if comparison.codecs else "no codec in both runs"
            findings.append(Finding("(all)", comparison.new, Outcome.UNDECIDED, f"{why} to gate on"))
            continue
        findings += [_judge(row, comparison, limit_pct) for _, row in comparison.overall(GATED_QUALITY).iterrows()]
        if not only_common:
            findings += [Finding(codec, comparison.new, Outcome.UNDECIDED,
                                 f"{codec}: in the baseline but not in {comparison.new}; run it, or gate the codecs "
                                 "both have with --only-common (or name them with --codecs)")
                         for codec in comparison.only_base]
    return GateVerdict(limit_pct, tuple(findings))


def _judge(row, comparison: CurveComparison, limit_pct: float) -> Finding:
    codec, value, coverage = row["codec"], float(row["bd_rate_pct"]), float(row["coverage"])
    figure = dict(bd_rate_pct=value, coverage=coverage)
    if not math.isfinite(value):
        reason = row["warning"] or "too few points"
        return Finding(codec, comparison.new, Outcome.UNDECIDED,
                       f"{codec}: BD-rate undefined ({reason})", **figure)
    if not coverage >= MIN_OVERLAP:
        return Finding(codec, comparison.new, Outcome.UNDECIDED,
                       f"{codec}: the curves overlap over {row['overlap_low']:.4g}..{row['overlap_high']:.4g} "
                       f"{GATED_QUALITY}, {100 * coverage:.0f}% of the wider one's range; the gate needs at least "
                       f"{100 * MIN_OVERLAP:.0f}% (sweep the same quality range)", **figure)
    if value > limit_pct:
        return Finding(codec, comparison.new, Outcome.FAIL,
                       f"{codec}: BD-rate {value:+.2f}% ({GATED_QUALITY}) against the baseline, worse than "
                       f"+{limit_pct:g}%", **figure)
    return Finding(codec, comparison.new, Outcome.PASS,
                   f"{codec}: BD-rate {value:+.2f}% ({GATED_QUALITY}), within +{limit_pct:g}%", **figure)

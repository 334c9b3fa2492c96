"""Regression tracking: compare a new run with a baseline, metric by metric (design §7).

Rows are matched by (codec, setting, dataset, split, class). Each metric's declaration says
which way is better, whether it is gated and whether it is a timing: the new run's manifest
first, then the baseline's, then the installed plugins', then the core declarations (a folder
written before runs recorded them). A move beyond its tolerance the wrong way is a regression,
the right way an improvement. Runs are deterministic, so the default tolerance only absorbs
float noise. Metrics with no better direction (entropy, snr_paper, lossless, an undeclared
column) or declared ungated are shown, not gated, unless named in ``metrics``; timings are left
out unless ``include_timings``, because they depend on the machine.

Tolerance config (``load_tolerances``), the same table in either file:

    # pyproject.toml                      # compbench.toml
    [tool.compbench.compare.tolerances]   [compare.tolerances]
    psnr = { abs = 0.05 }                 psnr = { abs = 0.05 }
    bpp = { rel = 0.01 }                  bpp = "1%"
    ssim = 0.0005                         # a bare number is absolute

A tolerance may give both ``abs`` and ``rel``; the larger allowance wins. On the command line
the same values read ``psnr=0.05`` (absolute) and ``bpp=1%`` (relative).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from ..contracts.errors import CompbenchError
from ..metrics import CORE_NAMES, HIGHER, LOWER, NO_DIRECTION, MetricSet  # noqa: F401 (re-exported)
from ..present.tables import format_value
from ..store.results_folder import (
    KEYS,
    ResultsFolder,
    metric_column,
    name_rows,
    open_results,
    summary_metrics,
)

REGRESSION, IMPROVEMENT, UNCHANGED = "regression", "improvement", "unchanged"
#: moved beyond tolerance, but the metric is not gated
CHANGED = "changed"


# -- tolerances ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Tolerance:
    """How far a metric may move and still count as unchanged: the larger of ``absolute``
    and ``relative`` times the baseline value."""

    absolute: float = 0.0
    relative: float = 0.0

    def allowed(self, baseline: float) -> float:
        return max(self.absolute, self.relative * abs(baseline))

    def __str__(self) -> str:
        if self == DEFAULT_TOLERANCE:
            return "exact"
        parts = ([f"±{self.absolute:g}"] if self.absolute else []) + \
                ([f"{100 * self.relative:g}%"] if self.relative else [])
        return " or ".join(parts) or "exact"


#: runs are deterministic: allow float noise only, so exact equality passes and nothing else
DEFAULT_TOLERANCE = Tolerance(absolute=1e-12, relative=1e-9)
#: wall times vary from run to run even on one machine
TIMING_TOLERANCE = Tolerance(relative=0.5)
_FLAG_HELP = "expected METRIC=NUMBER (absolute) or METRIC=NUMBER% (relative), e.g. psnr=0.05 or bpp=1%"


def parse_tolerance_flag(text: str) -> tuple[str, Tolerance]:
    """``"psnr=0.05"`` -> ("psnr", ±0.05); ``"bpp=1%"`` -> ("bpp", 1% of the baseline)."""
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*", text)
    if not match:
        raise CompbenchError(f"bad tolerance {text!r}: {_FLAG_HELP}")
    return match[1], parse_tolerance(match[2], where=f"tolerance {text!r}")


def parse_tolerance(value, where: str = "tolerance") -> Tolerance:
    """A Tolerance from a number (absolute), "1%" (relative), "0.05", or {abs = .., rel = ..}."""
    if isinstance(value, Tolerance):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {"abs", "rel"}
        if unknown:
            raise CompbenchError(f"{where}: unknown key {', '.join(sorted(unknown))} (use abs and/or rel)")
        return Tolerance(_non_negative(value.get("abs", 0.0), where), _non_negative(value.get("rel", 0.0), where))
    if isinstance(value, str) and value.strip().endswith("%"):
        return Tolerance(relative=_non_negative(value.strip()[:-1], where) / 100)
    return Tolerance(absolute=_non_negative(value, where))


def _non_negative(value, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not number >= 0 or math.isinf(number):
        raise CompbenchError(f"{where}: {value!r} is not a non-negative number; {_FLAG_HELP}")
    return number


def _tolerance_table(path: Path, data: dict) -> dict | None:
    scope = data.get("tool", {}).get("compbench", {}) if path.name == "pyproject.toml" else data
    return scope.get("compare", {}).get("tolerances")


def load_tolerances(path: str | Path) -> dict[str, Tolerance]:
    """Tolerances from ``[tool.compbench.compare.tolerances]`` of a pyproject.toml, or
    ``[compare.tolerances]`` of any other TOML file (compbench.toml)."""
    path = Path(path)
    data = _read_toml(path)
    table = _tolerance_table(path, data)
    where = "[tool.compbench.compare.tolerances]" if path.name == "pyproject.toml" else "[compare.tolerances]"
    if not isinstance(table, dict):
        raise CompbenchError(f"{path} has no {where} table of tolerances")
    return {metric: parse_tolerance(value, where=f"{path} {where} {metric}") for metric, value in table.items()}


def discover_config(start: str | Path | None = None) -> Path | None:
    """The nearest compbench.toml, or pyproject.toml with compbench tolerances, from ``start``
    (default: the current folder) up to the file-system root; None if there is none."""
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "compbench.toml").is_file():
            return candidate / "compbench.toml"
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _tolerance_table(pyproject, _read_toml(pyproject)) is not None:
            return pyproject
    return None


def _read_toml(path: Path) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise CompbenchError(f"tolerance config {path} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CompbenchError(f"{path} is not valid TOML ({exc})") from None


# -- comparing ----------------------------------------------------------------------------------

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

    def _with(self, status: str) -> pd.DataFrame:
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

    def to_markdown(self, max_rows: int = 50) -> str:
        """For a CI comment: the summary line, regressions, improvements, ungated changes, the
        unchanged count, then warnings. Long tables stop at ``max_rows`` (see to_json)."""
        parts = [f"**compbench compare: {self.summary_line()}**"]
        for title, rows in (("Regressions", self.regressions), ("Improvements", self.improvements),
                            ("Changed, not gated", self.changed)):
            if len(rows):
                parts += ["", f"### {title}", "", _moved_table(rows.head(max_rows), "github", self.declared)]
                if len(rows) > max_rows:
                    parts.append(f"\n... and {len(rows) - max_rows} more (see the JSON report)")
        parts += ["", f"{len(self.unchanged)} metric value(s) unchanged."]
        if self.warnings:
            parts += ["", "### Warnings", "", *[f"- {w}" for w in self.warnings]]
        return "\n".join(parts) + "\n"

    def format_table(self) -> str:
        """For the terminal: everything that moved, worst first, then the warnings."""
        moved = pd.concat([self.regressions, self.improvements, self.changed])
        parts = [_moved_table(moved, "simple", self.declared)] if len(moved) else []
        parts += [f"warning: {w}" for w in self.warnings] + [self.summary_line()]
        return "\n".join(parts)

    def to_json(self) -> str:
        """Counts, warnings and every row that moved; non-finite numbers as "inf"/"-inf"/null."""
        moved = pd.concat([self.regressions, self.improvements, self.changed])
        report = {
            "passed": self.passed, "baseline": self.baseline, "new": self.new,
            "counts": {status: int((self.table["status"] == status).sum())
                       for status in (REGRESSION, IMPROVEMENT, CHANGED, UNCHANGED)},
            "warnings": self.warnings,
            "rows": [{k: _json_value(v) for k, v in row.items()} for row in moved.to_dict("records")],
        }
        return json.dumps(report, indent=2)


def exit_code(comparison: Comparison) -> int:
    """1 if anything regressed, else 0 (bad input raises CompbenchError, exit 2)."""
    return 0 if comparison.passed else 1


def compare(baseline: str | Path, new: str | Path, tolerances: dict | None = None,
            metrics: list[str] | None = None, include_timings: bool = False) -> Comparison:
    """Compare the run at ``new`` with the one at ``baseline`` (results folders or summary.csv).

    ``tolerances``: metric -> Tolerance, number (absolute), "1%" or {"abs": .., "rel": ..};
    metrics not named keep DEFAULT_TOLERANCE (TIMING_TOLERANCE for timings).
    ``metrics``: compare and gate only these (informational ones included); default: every
    metric, gating those with a better direction. Timings are gated only with
    ``include_timings``.
    """
    base, fresh = open_results(baseline), open_results(new)
    _check_same_inputs(base, fresh)
    base_metrics, new_metrics = summary_metrics(base.summary), summary_metrics(fresh.summary)
    declared = declarations(base, fresh, set(base_metrics) | set(new_metrics))
    plan = _plan(metrics, [m for m in base_metrics if m in new_metrics], include_timings, declared)
    chosen = {name: parse_tolerance(value, where=f"tolerance {name}")
              for name, value in (tolerances or {}).items()}

    warnings = version_warnings(base.manifest, fresh.manifest)
    extra = fresh.summary.merge(base.summary[KEYS], on=KEYS, how="left", indicator=True)
    extra = extra[extra["_merge"] == "left_only"]
    if len(extra):
        warnings.append(f"the new run has rows the baseline lacks (not compared): {name_rows(extra)}")
    # a metric the gate would judge must be on both sides: a missing one is neither a pass nor
    # a regression but a run that does not match its baseline
    one_sided = {side: [m for m in mine if m not in theirs and _plan(None, [m], include_timings, declared).get(m)]
                 for side, mine, theirs in (("baseline", base_metrics, new_metrics),
                                            ("new run", new_metrics, base_metrics))}
    for side, missing in one_sided.items():
        if missing and metrics is None:
            other = "new run" if side == "baseline" else "baseline"
            raise CompbenchError(f"gated metric(s) {', '.join(missing)} are in the {side} but not the {other}: "
                                 "regenerate the baseline with this compbench, or gate only shared metrics "
                                 "with --metrics")
    unused = [name for name in chosen if name not in plan]
    if unused:
        warnings.append(f"tolerance(s) for {', '.join(unused)} match no compared metric "
                        f"(compared: {', '.join(plan)})")
    return Comparison(_judge_rows(base.summary, fresh.summary, plan, chosen, declared), warnings,
                      str(baseline), str(new), declared)


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
        raise CompbenchError(f"no metric {', '.join(map(repr, unknown))} in both runs; "
                             f"metrics: {', '.join(available)}")
    return {m: not timing[m] or include_timings for m in dict.fromkeys(metrics)}


def _gated_by_default(metric) -> bool:
    return metric.gated and metric.better != NO_DIRECTION


def judge(before: float, after: float, better: str, tolerance: Tolerance, gated: bool) -> str:
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


def _check_same_inputs(base: ResultsFolder, new: ResultsFolder) -> None:
    """Raise if the two runs did not measure the same images: their numbers would differ for
    that reason alone."""
    def datasets(run: ResultsFolder) -> str:
        return ", ".join(sorted(set(run.summary["dataset"] + "/" + run.summary["split"])))

    if datasets(base) != datasets(new):
        raise CompbenchError(f"baseline ran on {datasets(base)} but new ran on {datasets(new)}: "
                             "compare runs of the same dataset and split")
    if base.manifest is not None and new.manifest is not None:
        before, after = base.manifest.get("run", {}), new.manifest.get("run", {})
        if before.get("images") != after.get("images"):
            raise CompbenchError(f"baseline ran {before.get('images')} images but new ran {after.get('images')}: "
                                 "rerun with the same --limit/--per-class")
        selection = ("limit", "per_class")
        if [before.get(k) for k in selection] != [after.get(k) for k in selection]:
            raise CompbenchError(f"baseline and new chose their images differently "
                                 f"(baseline {_selection(before)}, new {_selection(after)}): "
                                 "rerun with the same --limit/--per-class")
    matched = base.summary.merge(new.summary, on=KEYS, how="left", indicator=True, suffixes=("@base", "@new"))
    missing = matched[matched["_merge"] == "left_only"]
    if len(missing):
        raise CompbenchError(f"the new run lacks {len(missing)} baseline row(s): {name_rows(missing)}; "
                             "run the same codecs and settings as the baseline")
    if {"count", "errors"} <= set(base.summary.columns) & set(new.summary.columns):
        images = {side: matched[f"count@{side}"] + matched[f"errors@{side}"] for side in ("base", "new")}
        differ = matched[images["base"] != images["new"]]
        if len(differ):
            raise CompbenchError(f"baseline and new measured different numbers of images for "
                                 f"{name_rows(differ)}: rerun with the same --limit/--per-class")


def _selection(run: dict) -> str:
    chosen = [f"--limit {run['limit']}" if run.get("limit") else "",
              f"--per-class {run['per_class']}" if run.get("per_class") else ""]
    return " ".join(filter(None, chosen)) or "all images"


def _plugin_versions(manifest: dict) -> dict:
    return dict(line.split("==", 1) if "==" in line else (line, "?") for line in manifest.get("plugins", []))


def _codec_library_versions(manifest: dict, codecs: set) -> dict:
    return {f"{codec} {library}": version for codec, libraries in manifest.get("codec_libraries", {}).items()
            if codec in codecs for library, version in (libraries or {}).items()}


def version_warnings(baseline: dict | None, new: dict | None) -> list[str]:
    """One line per kind of software that differs between the two manifests; results may move
    for that reason alone, so it is shown but does not fail the comparison."""
    absent = [name for name, manifest in (("baseline", baseline), ("new run", new)) if manifest is None]
    if absent:
        return [f"the {' and the '.join(absent)} has no manifest.json: software versions not checked"]
    shared_codecs = set(baseline.get("codec_libraries", {})) & set(new.get("codec_libraries", {}))
    kinds = {
        "compbench versions": lambda m: {"compbench": m.get("compbench")},
        "Python versions": lambda m: {"python": m.get("python")},
        "library versions": lambda m: m.get("libraries", {}),
        "plugin versions": _plugin_versions,
        "codec library versions": lambda m: _codec_library_versions(m, shared_codecs),
        "dataset checksums": lambda m: m.get("dataset_checksums", {}),
    }
    warnings = []
    for kind, versions in kinds.items():
        before, after = versions(baseline), versions(new)
        moved = [f"{name} {before.get(name, 'absent')} -> {after.get(name, 'absent')}"
                 for name in sorted(before.keys() | after.keys()) if before.get(name) != after.get(name)]
        if moved:
            warnings.append(f"{kind} differ (baseline -> new): {', '.join(moved)}")
    return warnings


# -- display ------------------------------------------------------------------------------------

def _moved_table(rows: pd.DataFrame, tablefmt: str, declared: MetricSet | None = None) -> str:
    body = [[r["setting"], r["class"], r["metric"], _number(r["baseline"], r["metric"], declared),
             _number(r["new"], r["metric"], declared), _delta(r["delta"], r["delta_pct"]), r["tolerance"],
             r["status"]] for _, r in rows.iterrows()]
    headers = ["setting", "class", "metric", "baseline", "new", "delta", "tolerance", "status"]
    return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def _number(value: float, metric: str, declared: MetricSet | None = None) -> str:
    # six significant digits: a change past a zero tolerance must not print as equal
    return format_value(value, metric, declared) if not math.isfinite(value) else f"{value:.6g}"


def _delta(delta: float, percent: float) -> str:
    if math.isnan(delta):
        return "-"
    return f"{delta:+.4g}" + (f" ({percent:+.2f}%)" if math.isfinite(percent) else "")


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value.item() if hasattr(value, "item") else value

"""Results: per-image records, per-class summaries, and the files a run writes (design §6)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from .errors import CompbenchError

KEY_COLUMNS = ["codec", "setting", "dataset", "split", "index", "label", "class"]
#: per-record columns that are neither keys nor metrics
INFO_COLUMNS = ["pixels", "error"]
#: metrics aggregated in the summary (any extra codec metric such as code_entropy is added)
SUMMARY_METRICS = ["bytes", "bpp", "bpp_payload", "mse", "psnr", "snr_db", "ssim", "entropy",
                   "snr_paper", "encode_s", "decode_s"]
#: per-image metrics only some codecs report (a learned codec's ideal rate); a column always
OPTIONAL_METRICS = ["code_entropy"]
#: records.csv columns in order; a plugin's own extra metrics go before "error"
RECORD_COLUMNS = KEY_COLUMNS + ["pixels"] + SUMMARY_METRICS + OPTIONAL_METRICS + ["error"]
#: what the terminal and summary.md show per class
TABLE_METRICS = ["bpp", "psnr", "snr_db", "ssim", "entropy", "snr_paper"]
ALL = "all"


def unit_records(result, labels: np.ndarray, indices: np.ndarray, class_names, dataset: str, split: str) -> pd.DataFrame:
    """One row per image of a finished work unit."""
    unit = result.unit
    positions = result.positions
    frame = pd.DataFrame({
        "codec": unit.spec.name,
        "setting": unit.spec.label,
        "dataset": dataset,
        "split": split,
        "index": indices[positions],
        "label": labels[positions],
        "class": [class_names[label] for label in labels[positions]],
        "pixels": result.pixels,
        **result.metrics,
    })
    frame["error"] = [result.errors.get(int(p), "") for p in positions]
    return frame


def metric_columns(records: pd.DataFrame) -> list[str]:
    """The metrics to aggregate: the standard ones, plus optional and plugin metrics that some
    codec of this run reported."""
    known = KEY_COLUMNS + INFO_COLUMNS + SUMMARY_METRICS
    extra = [c for c in records.columns if c not in known and records[c].notna().any()]
    return SUMMARY_METRICS + extra


def summarize(records: pd.DataFrame, class_names) -> pd.DataFrame:
    """Per (codec, setting, class) and over all images: mean, std and count of each metric,
    the number of failed images, and the pooled bpp (total bits / total pixels)."""
    metrics = metric_columns(records)
    group_keys = ["codec", "setting", "dataset", "split"]
    order = {name: i for i, name in enumerate(class_names)}
    rows = []
    for keys, group in records.groupby(group_keys, sort=False):
        per_class = [(name, group[group["class"] == name]) for name in sorted(group["class"].unique(), key=order.get)]
        for class_name, subset in per_class + [(ALL, group)]:
            rows.append({**dict(zip(group_keys, keys)), "class": class_name,
                         **_aggregate(subset, metrics)})
    return pd.DataFrame(rows)


#: metrics that are +inf for a lossless image
INFINITE_WHEN_LOSSLESS = ("psnr", "snr_db")


def _aggregate(subset: pd.DataFrame, metrics: list[str]) -> dict:
    ok = subset[subset["error"] == ""]
    row = {"count": len(ok), "errors": int((subset["error"] != "").sum()),
           "lossless": int((ok["mse"] == 0).sum())}
    for metric in metrics:
        values = ok[metric].to_numpy(dtype=float)
        values = values[~np.isnan(values)]
        if metric in INFINITE_WHEN_LOSSLESS and np.isinf(values).any() and not np.isinf(values).all():
            # one lossless image would make the mean inf: average the lossy ones and count the
            # lossless ones in "lossless" (psnr_pooled covers all images)
            values = values[np.isfinite(values)]
        row[f"{metric}_mean"] = float(np.mean(values)) if len(values) else np.nan
        row[f"{metric}_std"] = float(np.std(values)) if len(values) > 1 and np.isfinite(values).all() else np.nan
    total_pixels = ok["pixels"].sum()
    row["bpp_pooled"] = float(8 * ok["bytes"].sum() / total_pixels) if total_pixels else np.nan
    # PSNR of the pooled squared error: defined with lossless images in the set
    mean_mse = ok["mse"].mean() if len(ok) else np.nan
    row["psnr_pooled"] = float(10 * np.log10(255**2 / mean_mse)) if mean_mse > 0 else (np.inf if mean_mse == 0 else np.nan)
    return row


def format_value(value: float, metric: str) -> str:
    if isinstance(value, float) and math.isinf(value) and value > 0 and metric in ("psnr", "snr_db"):
        return "lossless"
    if isinstance(value, float) and math.isnan(value):
        return "-"
    if metric in ("ssim",):
        return f"{value:.4f}"
    return f"{value:.3f}"


def class_table(summary: pd.DataFrame, metrics=TABLE_METRICS, tablefmt: str = "simple") -> str:
    """Rows: classes then "all"; for each setting, the mean of each metric.

    The setting labels go on a line above their group of metric columns, so the table stays
    as narrow as the numbers.
    """
    settings = list(dict.fromkeys(summary["setting"]))
    classes = list(dict.fromkeys(summary["class"]))
    indexed = summary.set_index(["setting", "class"])
    body = []
    for class_name in classes:
        row = [class_name]
        for setting in settings:
            for metric in metrics:
                key = (setting, class_name)
                row.append(format_value(indexed.loc[key, f"{metric}_mean"], metric) if key in indexed.index else "-")
        body.append(row)
    if tablefmt != "simple":  # Markdown/LaTeX: one header row, the setting in each column name
        headers = ["class"] + [f"{setting} {metric}" for setting in settings for metric in metrics]
        return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    headers = ["class"] + [metric for _ in settings for metric in metrics]
    table = tabulate(body, headers=headers, tablefmt="simple", disable_numparse=True,
                     colalign=("left",) + ("right",) * (len(headers) - 1))
    return _group_header(table, settings, len(metrics)) + "\n" + table


def _group_header(table: str, groups: list[str], width: int) -> str:
    """A line naming each group of ``width`` columns, aligned with tabulate's rule line."""
    rule = table.splitlines()[1]
    spans, start = [], 0
    for dashes in rule.split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    line = ""
    for i, group in enumerate(groups):
        first, last = spans[1 + i * width], spans[width + i * width]
        text = f" {group} ".center(last[1] - first[0], "-")
        line = line.ljust(first[0]) + text
    return line


def overall_table(summary: pd.DataFrame, metrics=TABLE_METRICS, tablefmt: str = "github") -> str:
    """One row per setting over all images, with counts and failures."""
    overall = summary[summary["class"] == ALL]
    headers = ["setting", "images", "errors", "lossless", "bpp_pooled", "psnr_pooled"] + metrics
    body = [[r["setting"], r["count"], r["errors"], r["lossless"], format_value(r["bpp_pooled"], "bpp"),
             format_value(r["psnr_pooled"], "psnr")]
            + [format_value(r[f"{m}_mean"], m) for m in metrics] for _, r in overall.iterrows()]
    return tabulate(body, headers=headers, tablefmt=tablefmt, disable_numparse=True)


def prepare_out_dir(out: Path) -> Path:
    """Create the results folder and prove it is writable, or fail with a one-line fix."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise CompbenchError(
            f"cannot write results to {out} ({exc.strerror or exc}); choose a writable folder with --out"
        ) from None
    return out


class RecordsWriter:
    """Appends each finished unit's rows to records.csv, so a killed run keeps what it did.

    Writing the CSV is the slow part of a big run (~7 s for 240,000 rows here), so it is written
    once, as units finish, in the run's final order; only a plugin metric that appears mid-run
    (a column the header lacks) makes :meth:`finish` write the file again.
    """

    def __init__(self, path: Path) -> None:
        self.path, self.columns, self.rows, self.stale = path, list(RECORD_COLUMNS), 0, False

    def append(self, frame: pd.DataFrame) -> None:
        if self.rows and set(frame.columns) - set(self.columns):
            self.stale = True
        if not self.rows:
            extra = [c for c in frame.columns if c not in self.columns]
            self.columns = self.columns[:-1] + extra + self.columns[-1:]
        frame.reindex(columns=self.columns).to_csv(self.path, mode="a", header=not self.rows, index=False)
        self.rows += len(frame)

    def finish(self, records: pd.DataFrame) -> None:
        if self.stale:
            records.to_csv(self.path, index=False)


def record_frame(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The run's records: every unit's rows, with the columns of records.csv."""
    records = pd.concat(frames, ignore_index=True)
    ordered = RECORD_COLUMNS[:-1] + [c for c in records if c not in RECORD_COLUMNS] + ["error"]
    return records.reindex(columns=ordered)


def write_summary_files(out: Path, summary: pd.DataFrame, manifest: dict) -> None:
    summary.to_csv(out / "summary.csv", index=False)
    (out / "summary.md").write_text(summary_markdown(summary, manifest))
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")


#: --table-format choices: tabulate's names; the file suffix for the extra table file
TABLE_FORMATS = {"github": "md", "pipe": "md", "simple": "txt", "latex": "tex", "latex_booktabs": "tex",
                 "html": "html", "rst": "rst", "tsv": "tsv", "mediawiki": "wiki"}


def check_table_format(table_format: str) -> None:
    if table_format not in TABLE_FORMATS:
        raise CompbenchError(f"unknown table format {table_format!r}; valid: {', '.join(TABLE_FORMATS)}")


def render_tables(summary: pd.DataFrame, table_format: str) -> str:
    """The overall table and one per-class table per setting, in a tabulate format."""
    parts = [overall_table(summary, tablefmt=table_format)]
    for setting in dict.fromkeys(summary["setting"]):
        parts.append(class_table(summary[summary["setting"] == setting], tablefmt=table_format))
    return "\n\n".join(parts) + "\n"


def write_table_file(out: Path, summary: pd.DataFrame, table_format: str) -> Path:
    """summary.<suffix> in the requested format (e.g. summary.tex for LaTeX), beside summary.md."""
    path = out / f"summary.{TABLE_FORMATS[table_format]}"
    path.write_text(render_tables(summary, table_format))
    return path


def summary_markdown(summary: pd.DataFrame, manifest: dict) -> str:
    run = manifest.get("run", {})
    title = f"# compbench: {run.get('dataset', '?')} / {run.get('split', '?')}, {run.get('images', '?')} images"
    parts = [title, "", "## Overall", "", overall_table(summary), "", "## Per class (means)", ""]
    for setting in dict.fromkeys(summary["setting"]):
        parts += [f"### {setting}", "", class_table(summary[summary["setting"] == setting]), ""]
    return "\n".join(parts)

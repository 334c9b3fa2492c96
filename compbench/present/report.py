"""The HTML report (design §6): one self-contained page over a results folder.

``write_report`` reads whatever the folder holds (summary.csv, manifest.json, bdrate.csv,
records.csv for failures, every PNG) and writes ``report.html`` with the CSS inline and the
figures as ``data:`` URIs, so the single file opens offline, mailed or archived on its own.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from PIL import Image

from ..contracts.errors import CompbenchError
from ..metrics import CORE_NAMES, PER_IMAGE_ONLY, MetricSet
from ..present.tables import declared_metrics, format_value, table_metrics
from ..store.files import write_atomic
from ..store.results_folder import ResultsFolder, open_results
from ..store.summary import ALL

#: overall table: the whole-row numbers before the declared metrics: (summary column, header,
#: tooltip, format); absent columns are left out
COUNT_COLUMNS = (
    ("count", "images", "images measured (failed ones excluded)", "int"),
    ("errors", "errors", "images whose encode or decode failed", "int"),
    ("lossless", "lossless", "images reconstructed exactly (PSNR = inf)", "int"),
)
#: pooled numbers, shown just before the mean of the metric they pool
POOLED = {"bpp": "bpp_pooled", "psnr": "psnr_pooled"}
#: figure groups, in page order: (id, heading, file-name prefixes); "other" takes the rest
FIGURE_GROUPS = (
    ("rd", "Rate-distortion curves", ("rd_",)),
    ("grids", "Originals and reconstructions (Figs. 6-7)", ("fig6", "fig7")),
    ("bars", "Per-class bars (Figs. 8-10)", ("fig8", "fig9", "fig10")),
    ("other", "Other figures", ("",)),
)
CAPTIONS = {
    "fig7_comparison": "Fig. 7: originals and reconstructions of each setting side by side",
    "fig8_entropy": "Fig. 8: mean histogram entropy of the reconstructions per class (the paper's "
                    "\"entropy\"; not a rate)",
    "fig9_bpp": "Fig. 9: mean bits per pixel per class, from the real bitstreams",
    "fig10_snr": "Fig. 10: SNR per class: the honest snr_db beside the paper's snr_paper "
                 "(mean/std of the reconstruction)",
}
#: bdrate.csv columns as shown: (header, column, second column merged in, format)
BD_COLUMNS = (
    ("codec", "codec", None, "text"), ("anchor", "anchor", None, "text"),
    ("class", "class", None, "text"), ("quality", "quality", None, "text"),
    ("rate", "rate", None, "text"), ("BD-rate %", "bd_rate_pct", None, "signed2"),
    ("BD-quality", "bd_quality", None, "signed3"), ("points", "points", "anchor_points", "vs"),
    ("quality overlap", "overlap_low", "overlap_high", "range"),
    ("rate overlap", "rate_overlap_low", "rate_overlap_high", "range"),
)
MAX_FAILURES = 50
#: figures are shown at this resolution (CSS px per inch); wider than PAGE_WIDTH px they zoom
SCREEN_DPI = 100
PAGE_WIDTH = 1240  # main's max-width

CSS = """
body{margin:0;color:#1d2330;background:#fff;
 font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1240px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.7rem;margin:.2rem 0 .6rem}
h2{font-size:1.3rem;margin:2.4rem 0 .6rem;padding-bottom:.3rem;border-bottom:1px solid #dde1e8}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
a{color:#1f5fbf}
nav{margin:.8rem 0 0;font-size:.95rem}
nav a{margin-right:1rem}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em}
pre{background:#f6f7f9;padding:.8rem;overflow-x:auto;border-radius:4px}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1.2rem;margin:.6rem 0}
dl.facts dt{color:#5b6474}
dl.facts dd{margin:0;overflow-wrap:anywhere}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:.4rem 0 1rem;font-size:.88rem}
th,td{padding:.28rem .5rem;border-bottom:1px solid #e3e6ec;text-align:left;vertical-align:top}
thead th{background:#eef1f6;border-bottom:2px solid #c9ced8;vertical-align:bottom}
tbody tr:nth-child(even){background:#f7f8fa}
tbody th{font-weight:600;white-space:nowrap}
.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
tr.all th,tr.all td{border-top:2px solid #c9ced8;font-weight:600}
tr.warn td,tr.warn th{background:#fff5dc}
table.kv{font-size:.85rem;margin:0}
table.kv th{color:#5b6474;font-weight:normal;white-space:nowrap}
table.kv table.kv tbody tr{background:transparent}
table.kv thead th{color:#1d2330;font-weight:600}
details{margin:.3rem 0}
summary{cursor:pointer}
summary b{font-weight:600}
.figs{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}
figure{margin:0;max-width:100%}
figure img{display:block;max-width:100%;height:auto;border:1px solid #e3e6ec}
.zoom{position:absolute;opacity:0;pointer-events:none}
figure label{display:block;cursor:zoom-in;overflow-x:auto}
.zoom:checked+label{cursor:zoom-out}
.zoom:checked+label img{max-width:none;width:var(--full-width)}
figcaption{font-size:.85rem;color:#4a5263;margin-top:.3rem;max-width:70ch}
.note{background:#f4f7fb;border-left:4px solid #8aa4c8;padding:.5rem 1rem;margin:.8rem 0}
.problem{background:#fff1f0;border-left:4px solid #d9534f;padding:.5rem 1rem;margin:.8rem 0}
.muted{color:#5b6474}
"""

METRICS_NOTE = """
<p>compbench measures every codec the same way, from the bytes it wrote and the image it
decoded back (<code>x</code> the original, <code>y</code> the reconstruction, 8-bit): bpp
counts the real, decodable bitstream, headers included. Two of the paper's figures use
definitions that do not measure compression (<code>entropy</code>, the histogram of y, and
<code>snr_paper</code>, mean(y) / std(y)); they are reproduced under their own names so the
figures can be compared, and never stand in for the honest metrics. Each metric of this run,
as declared (a plugin's or codec's own included):</p>
"""


def _metrics_section(declared: MetricSet) -> str:
    better = {"higher": "higher", "lower": "lower", "none": "-"}
    rows = "".join(
        f"<tr><th>{_e(m.name)}</th><td>{_e(m.label)}</td><td>{_e(m.unit)}</td>"
        f"<td>{better[m.better]}</td><td>{'yes' if _gated(m) else 'no'}</td><td>{_e(m.description)}</td></tr>"
        for m in declared)
    head = ("<th>column</th><th>label</th><th>unit</th><th>better</th><th>gated</th>"
            "<th>definition</th>")
    return (METRICS_NOTE + f'<table class="kv" id="metric-definitions"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table>")


def _gated(metric) -> bool:
    return metric.gated and metric.better != "none" and not metric.timing


@dataclass
class ReportInputs:
    """What a report shows, other than the folder's figures: a run's own (handed over by its
    finish, nothing read back) or a stored folder's (:func:`read_inputs`)."""

    summary: pd.DataFrame | None
    manifest: dict | None
    bdrate: pd.DataFrame | None = None
    #: failed images in record order (setting, index, class, error)
    failures: pd.DataFrame | None = None
    #: what could not be read, one line each
    problems: list[str] = field(default_factory=list)


def write_report(results_dir: Path, inputs: ReportInputs | None = None, out_name: str = "report.html") -> Path:
    """Write one self-contained HTML report into ``results_dir``; return its path.

    ``inputs``: what to show (default: whatever the folder holds, read leniently: summary.csv,
    manifest.json, bdrate.csv and records.csv's failed images); the figures are the folder's
    PNGs. Raises :class:`CompbenchError` when the folder holds neither summary.csv nor
    manifest.json.
    """
    results_dir = Path(results_dir)
    page = render_report(results_dir, inputs or read_inputs(results_dir))
    return write_atomic(results_dir / out_name, page)  # readers never see half a report


def read_inputs(results_dir: Path) -> ReportInputs:
    """A stored folder's report inputs; a damaged part becomes a note on the page."""
    stored = open_results(results_dir, strict=False)
    bdrate = stored.table("bdrate.csv")
    failures = None
    if stored.summary is None or ("errors" in stored.summary and stored.summary["errors"].sum() > 0):
        failures = _failures(stored)
    return ReportInputs(stored.summary, stored.manifest, bdrate, failures, stored.problems)


def _failures(stored: ResultsFolder) -> pd.DataFrame | None:
    """records.csv's failed images, read a chunk at a time."""
    if not (stored.folder / "records.csv").exists():
        return None
    try:
        parts = [chunk.loc[chunk["error"] != "", ["setting", "index", "class", "error"]]
                 for chunk in stored.records() if "error" in chunk]
    except CompbenchError as exc:
        stored.problems.append(str(exc))
        return None
    return pd.concat(parts, ignore_index=True) if parts else None


def render_report(results_dir: Path, inputs: ReportInputs) -> str:
    """The report page of a results folder, as a string."""
    manifest, summary, problems = inputs.manifest, inputs.summary, list(inputs.problems)
    declared = declared_metrics(manifest=manifest)
    problems += [f"metric not measured on {count} image(s): {note}"
                 for note, count in ((manifest or {}).get("metric_errors") or {}).items()]

    sections = [("overall", "Overall", _overall_section(summary, declared)),
                ("per-class", "Per class", _per_class_section(summary, declared)),
                ("bd-rate", "BD-rate", _bdrate_section(inputs.bdrate)),
                ("failures", "Failed images", _failures_section(inputs.failures)),
                ("figures", "Figures", _figures_section(results_dir, problems, declared)),
                ("metrics", "Metric definitions", _metrics_section(declared)),
                ("manifest", "Manifest", _manifest_section(manifest))]
    sections = [(sid, title, body) for sid, title, body in sections if body]
    nav = "".join(f'<a href="#{sid}">{_e(title)}</a>' for sid, title, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{_e(title)}</h2>{content}</section>'
                   for sid, title, content in sections)
    problems_html = "".join(f'<p class="problem">{_e(p)}</p>' for p in problems)
    run = (manifest or {}).get("run", {})
    title = f"compbench report: {run.get('dataset', '?')} / {run.get('split', '?')}"
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
            f"<header><h1>{_e(title)}</h1>{_header_facts(manifest, summary)}"
            f"<nav>{nav}</nav></header>{problems_html}{body}</main></body></html>\n")


# ---------------------------------------------------------------- sections


def _header_facts(manifest: dict | None, summary: pd.DataFrame | None) -> str:
    manifest = manifest or {}
    run = manifest.get("run", {})
    settings = list(dict.fromkeys(summary["setting"])) if summary is not None else list(manifest.get("codecs", {}))
    facts = [("dataset", run.get("dataset")), ("split", run.get("split")),
             ("images per setting", run.get("images")), ("settings", len(settings) or None),
             ("failed images", manifest.get("errors")),
             ("started", str(manifest.get("started", "")).replace("T", " ") or None),
             ("run time", f"{manifest['seconds']} s" if "seconds" in manifest else None),
             ("compbench", manifest.get("compbench")), ("git commit", manifest.get("git_commit")),
             ("report written", datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S+00:00"))]
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts if v not in (None, ""))
    if manifest.get("command"):
        items += f'<dt>command</dt><dd><code id="command">{_e(manifest["command"])}</code></dd>'
    return f'<dl class="facts">{items}</dl>'


def overall_columns(summary: pd.DataFrame, declared: MetricSet) -> list[tuple[str, str, str, str]]:
    """(summary column, header, tooltip, format) of the overall table: counts, then every
    aggregated metric with a value in this run (declared order; a pooled number just before
    its mean), timings in milliseconds."""
    columns = [c for c in COUNT_COLUMNS if c[0] in summary]
    for name in _shown_metrics(summary, declared):
        metric = declared.describe(name)
        if name in POOLED and POOLED[name] in summary:
            pooled = declared.describe(POOLED[name])
            columns.append((POOLED[name], pooled.label, _tip(pooled), POOLED[name]))
        if metric.timing and metric.unit == "s":
            columns.append((f"{name}_mean", f"{metric.label} ms", f"{metric.description}, milliseconds", "ms"))
        else:
            columns.append((f"{name}_mean", metric.label, "mean " + _tip(metric), name))
    return columns


def _shown_metrics(summary: pd.DataFrame, declared: MetricSet) -> list[str]:
    """The metrics of the overall table, in declared order: table columns, rates, qualities,
    timings and every codec's or plugin's metric (bytes and MSE are in summary.csv). A metric
    without a value (MS-SSIM of images too small for it) or equal to an earlier one in every row
    (PSNR-Y of gray images is their PSNR) is left out."""
    def wanted(m) -> bool:
        return m.name not in CORE_NAMES or m.table or m.rate_axis or m.quality_axis or m.timing

    names = [m.name for m in declared if m.aggregate != PER_IMAGE_ONLY and m.name not in POOLED.values()
             and wanted(m)]
    names += [c[: -len("_mean")] for c in summary.columns
              if c.endswith("_mean") and c[: -len("_mean")] not in declared]
    shown: list[str] = []
    for name in dict.fromkeys(names):
        column = summary.get(f"{name}_mean")
        if column is None or column.isna().all():
            continue
        if any(column.equals(summary[f"{other}_mean"]) for other in shown):
            continue
        shown.append(name)
    return shown


def _tip(metric) -> str:
    unit = f" ({metric.unit})" if metric.unit else ""
    return f"{metric.name}{unit}: {metric.description}" if metric.description else metric.name + unit


def _overall_section(summary: pd.DataFrame | None, declared: MetricSet) -> str:
    if summary is None:
        return '<p class="muted">No summary.csv in this folder.</p>'
    overall = summary[summary["class"] == ALL]
    columns = overall_columns(overall, declared)
    head = "<th>setting</th>" + "".join(f'<th class="num" title="{_e(tip)}">{_e(name)}</th>'
                                        for _, name, tip, _ in columns)
    rows = "".join(f'<tr data-setting="{_e(r["setting"])}"><th>{_e(r["setting"])}</th>'
                   + "".join(_cell(r, key, kind, declared) for key, _, _, kind in columns) + "</tr>"
                   for _, r in overall.iterrows())
    note = ('<p class="muted">Means over all images of each setting; hover a number for its '
            "standard deviation. Definitions below, under <a href=\"#metrics\">Metric "
            "definitions</a>.</p>")
    return note + _table(head, rows, 'id="summary"')


def _per_class_section(summary: pd.DataFrame | None, declared: MetricSet) -> str:
    if summary is None:
        return ""
    # the table metrics, and every metric a codec or plugin added
    shown = _shown_metrics(summary, declared)
    metrics = table_metrics(summary, declared)
    metrics += [m for m in shown if m not in CORE_NAMES and m not in metrics]
    head = ("<th>class</th><th class=\"num\">images</th>"
            + "".join(f'<th class="num" title="{_e(_tip(declared.describe(m)))}">{_e(m)}</th>' for m in metrics))
    settings = list(dict.fromkeys(summary["setting"]))
    parts = ['<p class="muted">Means per class; the last row is over all images.</p>']
    for setting in settings:
        group = summary[summary["setting"] == setting]
        rows = "".join(
            f'<tr class="{"all" if r["class"] == ALL else "class"}"><th>{_e(r["class"])}</th>'
            + _cell(r, "count", "int") + "".join(_cell(r, f"{m}_mean", m, declared) for m in metrics) + "</tr>"
            for _, r in group.iterrows())
        overall = group[group["class"] == ALL]
        brief = ""
        if len(overall):
            o = overall.iloc[0]
            brief = (f' <span class="muted">bpp {_fmt(o.get("bpp_mean"), "bpp", declared)}, '
                     f'PSNR {_fmt(o.get("psnr_mean"), "psnr", declared)}, '
                     f'SSIM {_fmt(o.get("ssim_mean"), "ssim", declared)}</span>')
        table = _table(head, rows, f'class="per-class" data-setting="{_e(setting)}"')
        opened = " open" if len(settings) <= 3 else ""
        parts.append(f"<details{opened}><summary><b>{_e(setting)}</b>{brief}</summary>{table}</details>")
    return "".join(parts)


def _bdrate_section(bdrate: pd.DataFrame | None) -> str:
    """bdrate.csv, a few columns merged for reading (points "8 vs 8", overlaps "lo..hi"), its
    warnings numbered once below the table and referenced from each row; columns this module
    does not know are shown as they are."""
    if bdrate is None:
        return ""
    columns = [spec for spec in BD_COLUMNS if spec[1] in bdrate]
    known = {name for _, first, second, _ in columns for name in (first, second) if name} | {"warning"}
    extra = [c for c in bdrate.columns if c not in known]
    notes: dict[str, int] = {}  # distinct warning -> its number
    rows = []
    for _, r in bdrate.iterrows():
        cells = "".join(_bd_cell(r, first, second, kind) for _, first, second, kind in columns)
        cells += "".join(_bd_cell(r, c, None, "number" if pd.api.types.is_numeric_dtype(bdrate[c]) else "text")
                         for c in extra)
        refs = [notes.setdefault(w, len(notes) + 1) for w in _warnings(r.get("warning", ""))]
        links = ", ".join(f'<a href="#bd-warning-{n}">{n}</a>' for n in refs)
        rows.append(f'<tr class="{"warn" if refs else "ok"}">{cells}<td>{links}</td></tr>')
    head = ("".join(f'<th class="{"text" if kind == "text" else "num"}">{_e(h)}</th>' for h, _, _, kind in columns)
            + "".join(f"<th>{_e(c)}</th>" for c in extra) + "<th>warnings</th>")
    warned = sum('class="warn"' in row for row in rows)
    intro = ('<p class="muted">Bjøntegaard delta against the anchor codec: BD-rate is the average '
             "bitrate difference in percent at equal quality (negative = fewer bits than the "
             "anchor), BD-quality the average quality difference at equal rate (dB for PSNR). "
             "Points: usable settings of the codec vs the anchor; overlap: the range both curves "
             "cover, over which the average is taken.</p>")
    if warned:
        intro += (f'<p class="note">{warned} of {len(rows)} comparisons carry a warning '
                  "(highlighted, listed below the table): read their numbers with care.</p>")
    items = "".join(f'<li id="bd-warning-{n}">{_e(text)}</li>' for text, n in notes.items())
    listing = f'<ol id="bdrate-warnings">{items}</ol>' if items else ""
    return intro + _table(head, "".join(rows), 'id="bdrate"') + listing


def _bd_cell(row: pd.Series, column: str, second: str | None, kind: str) -> str:
    value = row[column]
    other = row.get(second) if second else None
    if kind == "text" or isinstance(value, str):
        return f"<td>{_e(value)}</td>"
    if kind.startswith("signed"):
        text = _signed(value, int(kind[-1]))
    elif kind == "vs":
        text = _fmt(value, "int") + (f" vs {_fmt(other, 'int')}" if second in row else "")
    elif kind == "range":
        text = (f"{value:.4g}..{other:.4g}" if second in row and math.isfinite(value) and math.isfinite(other)
                else "none" if second in row else f"{value:.4g}")
    else:
        text = _fmt(value, column)
    return f'<td class="num">{_e(text)}</td>'


def _warnings(value) -> list[str]:
    """The distinct warnings of one bdrate.csv row (joined there with "; ")."""
    return list(dict.fromkeys(w.strip() for w in str(value or "").split("; ") if w.strip()))


def _failures_section(failures: pd.DataFrame | None) -> str:
    if failures is None or failures.empty:
        return ""
    columns = [c for c in ("setting", "index", "class", "error") if c in failures]
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    rows = "".join("<tr>" + "".join(f"<td>{_e(r[c])}</td>" for c in columns) + "</tr>"
                   for _, r in failures.head(MAX_FAILURES).iterrows())
    more = (f'<p class="muted">The first {MAX_FAILURES} of {len(failures)}; all are in records.csv.</p>'
            if len(failures) > MAX_FAILURES else "")
    return _table(head, rows, 'id="failures"') + more


def _figures_section(results_dir: Path, problems: list[str], declared: MetricSet) -> str:
    pngs = sorted(results_dir.glob("*.png"), key=lambda p: _natural(p.name))
    if not pngs:
        return ""
    groups: dict[str, list[Path]] = {gid: [] for gid, _, _ in FIGURE_GROUPS}
    for png in pngs:
        gid = next(gid for gid, _, prefixes in FIGURE_GROUPS if png.name.startswith(prefixes))
        groups[gid].append(png)
    parts = []
    for gid, heading, _ in FIGURE_GROUPS:
        figures = [_figure(png, problems, declared) for png in groups[gid]]
        if figures:
            parts.append(f'<h3>{_e(heading)}</h3><div class="figs" id="figures-{gid}">{"".join(figures)}</div>')
    return "".join(parts)


def _figure(png: Path, problems: list[str], declared: MetricSet) -> str:
    """One PNG as a data: URI, shown at 100 dpi (matplotlib's 150-dpi PNGs are not blown up);
    one wider than the page shrinks to fit, and a click (a CSS-only toggle) shows it full size."""
    data = png.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != "PNG":
                raise ValueError(f"it is {image.format}, not PNG")
            width, height = image.size
            dpi = float((image.info.get("dpi") or (0, 0))[0])
            image.verify()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        # an undecodable file (PIL's verify raises SyntaxError too): name it, show no broken image
        problems.append(f"figure {png.name} left out: {exc}")
        return ""
    scale = SCREEN_DPI / dpi if dpi > SCREEN_DPI else 1.0
    caption = _caption(png.stem, declared)
    files = png.name + (f", {png.stem}.svg" if png.with_suffix(".svg").exists() else "")
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    img = (f'<img src="{uri}" alt="{_e(caption)}" width="{round(width * scale)}" '
           f'height="{round(height * scale)}" style="--full-width:{width}px">')
    if width * scale > PAGE_WIDTH:
        toggle = f"zoom-{_slug(png.stem)}"
        img = (f'<input type="checkbox" class="zoom" id="{toggle}">'
               f'<label for="{toggle}" title="click: full size / fit the page">{img}</label>')
        files += "; click the image for full size"
    return (f'<figure data-file="{_e(png.name)}">{img}<figcaption>{_e(caption)} '
            f'<span class="muted">({_e(files)})</span></figcaption></figure>')


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", text)


def _caption(stem: str, declared: MetricSet | None = None) -> str:
    if stem in CAPTIONS:
        return CAPTIONS[stem]
    if stem.startswith("rd_"):  # rd_<quality>_<rate>[_by_class]
        rest = stem[len("rd_"):]
        per_class = rest.endswith("_by_class")
        rest = rest[: -len("_by_class")] if per_class else rest
        # rd_<quality>_<rate>: the rate is a declared rate axis (longest name first)
        rates = {m.name for m in (declared or MetricSet()) if m.rate_axis} | {"bpp_pooled"}
        rates = sorted(rates, key=len, reverse=True)
        rate = next((r for r in rates if rest.endswith("_" + r)), None)
        what = f"{rest[: -len(rate) - 1]} vs {rate}" if rate else rest.replace("_", " ")
        return f"Rate-distortion: {what}" + (", per class" if per_class else "")
    if stem.startswith("fig6_"):
        return f"Fig. 6: originals, codec panels and reconstructions, {stem[len('fig6_'):]}"
    return stem.replace("_", " ")


def _manifest_section(manifest: dict | None) -> str:
    if manifest is None:
        return '<p class="muted">No manifest.json in this folder.</p>'
    raw = json.dumps(manifest, indent=2, default=str)
    return (f'<div class="scroll">{_value(manifest, "manifest")}</div>'
            f"<details><summary>manifest.json</summary><pre>{_e(raw)}</pre></details>")


def _value(value, table_id: str = "") -> str:
    """A manifest value: dicts as key/value tables, a dict of like dicts (codecs) as one table
    with a column per key, small dicts of plain values inline, lists one item per line."""
    ident = f' id="{table_id}"' if table_id else ""
    if isinstance(value, dict) and value:
        inner = list(value.values())
        if len(inner) > 1 and all(isinstance(v, dict) and v.keys() == inner[0].keys() for v in inner):
            keys = list(inner[0])
            head = "<th></th>" + "".join(f"<th>{_e(k)}</th>" for k in keys)
            rows = "".join(f"<tr><th>{_e(name)}</th>" + "".join(f"<td>{_inline(v[k])}</td>" for k in keys)
                           + "</tr>" for name, v in value.items())
            return f'<table class="kv"{ident}><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        rows = "".join(f"<tr><th>{_e(k)}</th><td>{_value(v)}</td></tr>" for k, v in value.items())
        return f'<table class="kv"{ident}><tbody>{rows}</tbody></table>'
    if isinstance(value, list) and value:
        return "<br>".join(_value(v) for v in value)
    if value is None or value == {} or value == []:
        return '<span class="muted">-</span>'
    return _e(value)


def _inline(value) -> str:
    if isinstance(value, dict) and not any(isinstance(v, (dict, list)) for v in value.values()):
        return "<code>" + _e(", ".join(f"{k}={v}" for k, v in value.items())) + "</code>"
    return _value(value)


# ---------------------------------------------------------------- formatting


def _table(head: str, rows: str, attributes: str) -> str:
    return (f'<div class="scroll"><table {attributes}><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def _cell(row: pd.Series, key: str, kind: str, declared: MetricSet | None = None) -> str:
    value = row.get(key)
    std = row.get(key[: -len("_mean")] + "_std") if key.endswith("_mean") else None
    tip = ""
    if isinstance(std, float) and math.isfinite(std):
        tip = f' title="std {_e(_fmt(std, kind, declared))}"'
    return f'<td class="num"{tip}>{_e(_fmt(value, kind, declared))}</td>'


def _fmt(value, kind: str, declared: MetricSet | None = None) -> str:
    """A number as shown: ints plain, times in ms, metrics as their declarations say
    (``tables.format_value``: inf PSNR is "lossless", NaN is "-")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if kind == "int":
        return str(int(value))
    if kind == "ms":
        return f"{1000 * float(value):.3f}"
    if isinstance(value, (int, float)):
        return format_value(float(value), kind, declared)
    return str(value)


def _signed(value, digits: int) -> str:
    if value is None or not math.isfinite(float(value)):
        return _fmt(value, "")
    return f"{float(value):+.{digits}f}"


def _natural(name: str) -> list:
    """Sort key putting fig9 before fig10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _e(value) -> str:
    return html.escape(str(value), quote=True)

"""manifest.json as nested key/value tables for the template (``macros.value``): a dict of like
dicts (codecs) as one table with a column per key, small dicts of plain values inline, lists one
item per line. The metric declarations are the "Metric definitions" table, not repeated here."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd


def manifest_tree(manifest: dict) -> dict:
    rows = []
    for key, value in manifest.items():
        if key == "metrics" and isinstance(value, dict):
            rows.append((key, {"kind": "link", "href": "#metrics",
                               "text": f"{len(value)} declarations: see Metric definitions"}))
        else:
            rows.append((key, node(value)))
    return {"kind": "kv", "ident": "manifest", "rows": rows}


def node(value) -> dict:
    if isinstance(value, dict) and value:
        inner = list(value.values())
        if len(inner) > 1 and all(isinstance(v, dict) and v.keys() == inner[0].keys() for v in inner):
            keys = list(inner[0])
            return {"kind": "grid", "keys": keys,
                    "rows": [(name, [_inline(v[k]) for k in keys]) for name, v in value.items()]}
        return {"kind": "kv", "ident": "", "rows": [(k, node(v)) for k, v in value.items()]}
    if isinstance(value, list) and value:
        return {"kind": "list", "items": [node(v) for v in value]}
    if value is None or value == {} or value == []:
        return {"kind": "none"}
    return {"kind": "text", "text": str(value)}


def _inline(value) -> dict:
    if isinstance(value, dict) and not any(isinstance(v, (dict, list)) for v in value.values()):
        return {"kind": "code", "text": ", ".join(f"{k}={v}" for k, v in value.items())}
    return node(value)


def header_facts(manifest: dict | None, summary: pd.DataFrame | None) -> list[tuple[str, str]]:
    """The facts under the title: what ran, on what, when, with which compbench."""
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
    return [(key, str(value)) for key, value in facts if value not in (None, "")]

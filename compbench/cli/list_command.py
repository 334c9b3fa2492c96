"""``compbench list``: what is installed, with parameters and availability."""

from __future__ import annotations

import json
import sys


def add_parser(commands) -> None:
    listing = commands.add_parser("list", help="codecs, datasets, trainers and metrics, with parameters and "
                                  "availability")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=main)


def main(args, rest) -> int:
    from tabulate import tabulate

    from ..contracts.catalog import describe_plugins

    described = describe_plugins()
    if args.json:
        print(json.dumps(described, indent=2, default=str))
        return 0
    for kind in ("codecs", "datasets", "trainers", "metrics"):
        rows = []
        for item in described[kind]:
            status = "yes" if item["available"] else f"no: {item['reason']} (fix: {item['fix']})"
            detail = ", ".join(f"{p['name']}={p['default']} [{p['range']}]" for p in item.get("params", []))
            if kind == "metrics":
                detail = f"better: {item['better']}; " + (f"optional: --metrics-extra {item['name']}"
                                                         if item["optional"] else "always measured")
            if kind == "datasets":  # a folder's classes are known only once it is opened
                classes = f"; {len(item['classes'])} classes" if item["classes"] else ""
                detail = "; ".join(filter(None, [detail, f"splits {'/'.join(item['splits'])}{classes}"]))
            rows.append([item["name"], f"{item['distribution']} {item['version']}", detail, status,
                         item["description"]])
        print(f"{kind}:")
        print(tabulate(rows, headers=["name", "provided by", "parameters [range]", "available", "description"]))
        print()
    for failure in described["failed_plugins"]:
        print(f"warning: plugin {failure['plugin']!r} failed to load: {failure['error']}", file=sys.stderr)
    return 0

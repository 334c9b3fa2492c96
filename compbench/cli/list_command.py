"""``compbench list``: what is installed, with parameters, ladders and availability, fitted to
the terminal's width (``--wide``: one line each, for grep; ``--json``: everything, for
machines)."""

from __future__ import annotations

import shutil
import sys
import textwrap

from .arguments import add_command

EXAMPLES = """\
compbench list                      # fitted to the terminal
compbench list --wide | grep jpeg   # one line per entry
compbench list --json               # everything, for scripts
"""
#: each section's heading: what it is for (the first word stays the kind: scripts read it)
SECTIONS = {
    "codecs": "codecs: run --codecs NAME[:key=value]; --sweep runs each one's ladder",
    "datasets": "datasets: run --dataset NAME[:key=value]",
    "trainers": "trainers: compbench train NAME --help",
    "metrics": "metrics: beyond the core ones (optional ones: run --metrics-extra NAME)",
}
#: the name column is at most this wide; a longer name gets a line of its own
MAX_NAME_WIDTH = 18
#: ladder points shown in full; a longer ladder shows its first three and its last
LADDER_SHOWN = 6


def add_parser(commands) -> None:
    listing = add_command(commands, "list", summary="codecs, datasets, trainers and metrics, with parameters and "
                          "availability", examples=EXAMPLES,
                          description="What is installed (built-in and plugins): each codec's parameters, "
                                      "ranges and --sweep ladder, datasets, trainers and optional metrics, "
                                      "and whether each can run here (if not, the fix).")
    listing.add_argument("--json", action="store_true", help="everything, machine-readable")
    listing.add_argument("--wide", action="store_true", help="one line per entry, however long (for grep)")
    listing.set_defaults(handler=main)


def main(args, rest) -> int:
    from ..contracts.catalog import describe_plugins

    described = describe_plugins()
    if args.json:
        import json

        print(json.dumps(described, indent=2, default=str))
    elif args.wide:
        print(wide_listing(described))
    else:
        print(listing(described, shutil.get_terminal_size().columns))
    for failure in described["failed_plugins"]:
        print(f"warning: plugin {failure['plugin']!r} failed to load: {failure['error']}", file=sys.stderr)
    return 0


def listing(described: dict, width: int) -> str:
    """Every section as indented blocks, no line wider than ``width`` (but a word longer)."""
    out = []
    for kind, heading in SECTIONS.items():
        items = described[kind]
        column = min(max((len(item["name"]) for item in items), default=0) + 2, MAX_NAME_WIDTH) + 2
        out += textwrap.wrap(heading, width, subsequent_indent="  ", break_on_hyphens=False)
        out += [line for item in items for line in block(item["name"], details(kind, item), column, width)]
        out.append("")
    return "\n".join(out).rstrip("\n")


def block(name: str, lines: list[list[str]], column: int, width: int) -> list[str]:
    """``name`` and its detail lines, each wrapped at ``width`` and indented to ``column``; a
    detail line is a list of parts that wrap as units (a parameter and its range stay together)."""
    indent = " " * column
    first = f"  {name}".ljust(column)
    wrapped = []
    for parts in lines:
        wrapped += wrap_parts(parts, width, indent)
    if len(first) > column or not wrapped:  # a long name on a line of its own
        return [first.rstrip(), *wrapped]
    return [first + wrapped[0][column:], *wrapped[1:]]


def wrap_parts(parts: list[str], width: int, indent: str) -> list[str]:
    """Parts joined by spaces, broken between parts (and within a part only as a last resort)."""
    lines, line = [], indent
    for part in parts:
        if line.strip() and len(line) + 1 + len(part) > width:
            lines.append(line)
            line = indent
        line += ("" if not line.strip() else " ") + part
    lines.append(line)
    return [piece for line in lines
            for piece in (textwrap.wrap(line, width, subsequent_indent=indent) if len(line) > width else [line])]


def details(kind: str, item: dict) -> list[list[str]]:
    """The lines of one entry: description, parameters, ladder or splits, provider, status."""
    lines = [item["description"].split()]
    params = [param_text(p, flag=kind == "trainers") for p in item.get("params", [])]
    if params:
        lines.append(["parameters:", *(p + "," for p in params[:-1]), params[-1]])
    if item.get("ladder"):
        lines.append(["ladder:", ladder_text(item["ladder"])])
    if kind == "datasets":
        classes = f", {len(item['classes'])} classes" if item["classes"] else ""  # a folder's: when opened
        lines.append([f"splits: {'/'.join(item['splits'])}{classes}"])
    if kind == "metrics":
        lines.append([f"better: {item['better']};", "optional" if item["optional"] else "always measured"])
    if item["distribution"] != "compbench":
        lines.append([f"provided by {item['distribution']} {item['version']}"])
    if not item["available"]:
        lines.append(["not available:", *item["reason"].split(), *(["fix:", *item["fix"].split()] if item["fix"] else [])])
    return lines


def param_text(param: dict, flag: bool = False) -> str:
    """``quality=75 [1..100]``; an unset one (no default) ``ratio [1..10000]``; a trainer's
    option ``--batch-size=128 [1..60000]``."""
    name = "--" + param["name"].replace("_", "-") if flag else param["name"]
    default = "" if param["default"] is None else f"={param['default']}"
    return f"{name}{default} [{param['range']}]"


def ladder_text(ladder: list[dict]) -> str:
    """``quality 1,5,10,...,100 (11 points)``; points of several parameters as ``k=v:k=v``."""
    keys = {key for point in ladder for key in point}
    if len(keys) == 1 and all(len(point) == 1 for point in ladder):
        (key,) = keys
        prefix, values = f"{key} ", [_number(point[key]) for point in ladder]
    else:
        prefix, values = "", [":".join(f"{k}={_number(v)}" for k, v in point.items()) for point in ladder]
    if len(values) > LADDER_SHOWN:
        values = [*values[:3], "...", values[-1]]
    return f"{prefix}{','.join(values)} ({len(ladder)} points)"


def _number(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def wide_listing(described: dict) -> str:
    """One line per entry: the section, the name and every detail, tab-free and unwrapped."""
    rows = []
    for kind in SECTIONS:
        for item in described[kind]:
            description, *rest = details(kind, item)
            rows.append(f"{kind[:-1]:8} {item['name']:{MAX_NAME_WIDTH}} "
                        + " | ".join(" ".join(parts) for parts in [*rest, description]))
    return "\n".join(rows)

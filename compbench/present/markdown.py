"""summary.md: the run's tables as GitHub/CommonMark Markdown, valid throughout (a pipe table
per class table, not text a renderer turns into a rule and a run-on paragraph).

Text from the run (settings, class names) is escaped: a backslash before every ASCII
punctuation character that Markdown reads as markup, including ``|`` (a cell's end) and ``<``
(raw HTML), and line breaks become spaces, so a class named ``a|b`` or ``<script>`` stays text
in its cell.
"""

from __future__ import annotations

import re

import pandas as pd

from .tables import TextTable, bd_text, class_text, overall_text

#: characters that are markup inside a line of CommonMark/GFM (emphasis, code, links, images,
#: raw HTML, entities, strikethrough, a cell's end, a heading's closing #s); numbers, dots and
#: dashes are not, so the numbers stay readable in the raw file
MARKUP = re.compile(r"([\\`*_\[\]<>|&~!#])")


def escape(text) -> str:
    """Text as Markdown shows it literally, on one line."""
    one_line = re.sub(r"[\r\n]+", " ", str(text))
    return MARKUP.sub(r"\\\1", one_line)


def markdown_table(table: TextTable) -> str:
    """A pipe table: numbers right-aligned, every cell escaped."""
    head = "| " + " | ".join(escape(h) for h in table.headers) + " |"
    rule = "|" + "|".join("---:" if numeric else ":---" for numeric in table.numeric) + "|"
    rows = ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in table.rows]
    return "\n".join([head, rule, *rows])


def summary_markdown(summary: pd.DataFrame, manifest: dict, bdrate: pd.DataFrame | None = None) -> str:
    run = manifest.get("run", {})
    title = f"compbench: {run.get('dataset', '?')} / {run.get('split', '?')}, {run.get('images', '?')} images"
    parts = [f"# {escape(title)}", "", "## Overall", "", "Means over all images of each setting.", "",
             markdown_table(overall_text(summary)), ""]
    for table in bd_text(bdrate):
        parts += [f"## {escape(table.caption[0].upper() + table.caption[1:])}", "", markdown_table(table), ""]
        parts += [f"- {escape(note)}" for note in table.notes] + ([""] if table.notes else [])
    parts += ["## Per class (means)", ""]
    for setting in dict.fromkeys(summary["setting"]):
        parts += [f"### {escape(setting)}", "", markdown_table(class_text(summary, setting)), ""]
    return "\n".join(parts)

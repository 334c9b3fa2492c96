"""Where each ``--table-format`` goes: the choices, which of them the terminal shows as they
are, and the run's tables rendered in one of them (tabulate's formats from :mod:`.tables`, LaTeX
from :mod:`.latex`). Kept apart from :mod:`.tables` so that the Markdown and LaTeX renderers,
which build on it, are not imported by it."""

from __future__ import annotations

import pandas as pd

from ..contracts.errors import CompbenchError
from .latex import latex_tables
from .tables import bd_text, class_table, overall_table, tabulated

#: --table-format choices: tabulate's names; the file suffix for the extra table file
TABLE_FORMATS = {"github": "md", "pipe": "md", "simple": "txt", "latex": "tex", "latex_booktabs": "tex",
                 "html": "html", "rst": "rst", "tsv": "tsv", "mediawiki": "wiki"}
#: formats a terminal shows as they are; the others go to summary.<ext> only
TERMINAL_FORMATS = ("simple", "github", "pipe", "rst", "tsv")


def check_table_format(table_format: str) -> None:
    if table_format not in TABLE_FORMATS:
        raise CompbenchError(f"unknown table format {table_format!r}; valid: {', '.join(TABLE_FORMATS)}")


def terminal_format(table_format: str) -> str:
    """The format the terminal prints in: the one asked for, unless it is meant for a file
    (LaTeX, HTML, MediaWiki), which the terminal shows as plain tables instead."""
    return table_format if table_format in TERMINAL_FORMATS else "simple"


def render_tables(summary: pd.DataFrame, table_format: str, bdrate: pd.DataFrame | None = None,
                  manifest: dict | None = None) -> str:
    """The overall table, the BD tables and one per-class table per setting, in a tabulate
    format; LaTeX as booktabs tables with captions (:mod:`.latex`)."""
    if table_format.startswith("latex"):
        return latex_tables(summary, bdrate, manifest or {})
    parts = [overall_table(summary, tablefmt=table_format)]
    parts += [tabulated(table, table_format) for table in bd_text(bdrate)]
    for setting in dict.fromkeys(summary["setting"]):
        parts.append(class_table(summary[summary["setting"] == setting], tablefmt=table_format))
    return "\n\n".join(parts) + "\n"

"""``--table-format latex``: the run's tables as LaTeX a paper can \\input: booktabs rules, numbers
right-aligned with real minus signs, units in the headings, a caption and a label on each, and
the BD table. Needs ``\\usepackage{booktabs}``."""

from __future__ import annotations

import re

import pandas as pd

from .tables import TextTable, bd_text, class_text, overall_text

SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
           "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
           "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}
NUMBER = re.compile(r"[+-]?\d[\d.]*(e[+-]?\d+)?")


def escape(text) -> str:
    return "".join(SPECIAL.get(ch, ch) for ch in re.sub(r"[\r\n]+", " ", str(text)))


def _cell(text: str, numeric: bool) -> str:
    """A number with a real minus sign ($-$1.5, not a hyphen); other text escaped."""
    if numeric and NUMBER.fullmatch(text):
        sign, rest = (text[0], text[1:]) if text[0] in "+-" else ("", text)
        return {"-": "$-$", "+": "$+$", "": ""}[sign] + rest
    return escape(text)


def latex_table(table: TextTable, label: str) -> str:
    columns = "".join("r" if numeric else "l" for numeric in table.numeric)
    lines = [r"\begin{table}[htbp]", r"\centering", r"\small",
             rf"\caption{{{escape(table.caption)}}}", rf"\label{{{label}}}",
             rf"\begin{{tabular}}{{{columns}}}", r"\toprule",
             " & ".join(escape(h) for h in table.headers) + r" \\", r"\midrule"]
    lines += [" & ".join(_cell(cell, numeric) for cell, numeric in zip(row, table.numeric)) + r" \\"
              for row in table.rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    if table.notes:
        lines += [r"\par\smallskip\footnotesize " + "; ".join(escape(n) for n in table.notes)]
    return "\n".join(lines + [r"\end{table}"])


def latex_tables(summary: pd.DataFrame, bdrate: pd.DataFrame | None, manifest: dict) -> str:
    """Every table of summary.tex: overall, BD (one per quality metric), per class."""
    run = manifest.get("run", {})
    where = f"{run.get('dataset', '?')} / {run.get('split', '?')}, {run.get('images', '?')} images"
    parts = ["% compbench tables (" + where + "); needs \\usepackage{booktabs}"]
    overall = overall_text(summary)
    parts.append(latex_table(_captioned(overall, f"compbench, {where}: {overall.caption}."), "tab:compbench-overall"))
    for k, table in enumerate(bd_text(bdrate)):
        parts.append(latex_table(_captioned(table, f"{table.caption} (negative BD-rate: fewer bits)."),
                                 f"tab:compbench-bd-{k}"))
    for k, setting in enumerate(dict.fromkeys(summary["setting"])):
        table = class_text(summary, setting)
        parts.append(latex_table(_captioned(table, f"{table.caption[0].upper()}{table.caption[1:]} ({where})."),
                                 f"tab:compbench-class-{k}"))
    return "\n\n".join(parts) + "\n"


def _captioned(table: TextTable, caption: str) -> TextTable:
    return TextTable(table.headers, table.rows, table.numeric, caption, table.notes)

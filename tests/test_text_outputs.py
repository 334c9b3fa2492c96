"""summary.md as Markdown a parser reads as tables, LaTeX tables for papers, the terminal's
format, and the history plot: text outputs that render."""

import json

import numpy as np
import pandas as pd
import pytest
from markdown_it import MarkdownIt
from PIL import Image

from compbench.present.charts import plot_history
from compbench.present.markdown import summary_markdown
from compbench.present.table_formats import render_tables, terminal_format

#: class names a Markdown table must survive: a cell's end, a line break, markup
CLASSES = ["0", "a|b", "two\nlines", "<b>bold</b> *x*", "all"]
SETTINGS = ["jpeg:quality=50", "jpeg2000:psnr=30"]
MANIFEST = {"run": {"dataset": "toy", "split": "test", "images": 40}}
BDRATE = pd.DataFrame({"codec": ["jpeg"], "anchor": ["jpeg2000"], "class": ["all"], "quality": ["psnr"],
                       "rate": ["bpp"], "bd_rate_pct": [-12.5], "bd_quality": [0.75], "points": [4],
                       "anchor_points": [4], "warning": ["only 4 points"]})


@pytest.fixture
def summary() -> pd.DataFrame:
    rows = []
    for k, setting in enumerate(SETTINGS):
        for c, name in enumerate(CLASSES):
            rows.append({"codec": setting.split(":")[0], "setting": setting, "class": name, "count": 10,
                         "errors": 0, "lossless": 0, "bpp_pooled": 1.0 + k, "psnr_pooled": 30.0 + c,
                         **{f"{m}_mean": v + k + c / 10 for m, v in (("bpp", 1.0), ("psnr", 30.0), ("snr_db", 20.0),
                                                                   ("ssim", 0.5), ("entropy", 3.0), ("snr_paper", 0.4))}})
    return pd.DataFrame(rows)


def cells(tokens, start: int) -> list[list[str]]:
    """The rows of the table opening at ``tokens[start]``: each cell's inline text."""
    rows, row = [], None
    for token in tokens[start:]:
        if token.type == "tr_open":
            row = []
        elif token.type == "inline" and row is not None:
            row.append("".join(child.content for child in token.children if child.type in ("text", "code_inline")))
        elif token.type == "tr_close":
            rows.append(row)
            row = None
        elif token.type == "table_close":
            return rows
    return rows


def test_summary_md_is_one_markdown_table_per_class_table(summary):
    text = summary_markdown(summary, MANIFEST, BDRATE)
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables = [i for i, token in enumerate(tokens) if token.type == "table_open"]
    assert len(tables) == 1 + 1 + len(SETTINGS)  # overall, BD, one per class table
    assert not [t for t in tokens if t.type in ("hr", "html_block", "html_inline")]
    overall = cells(tokens, tables[0])
    assert overall[0][:4] == ["setting", "images", "errors", "lossless"] and "PSNR (dB)" in overall[0]
    assert [row[0] for row in overall[1:]] == SETTINGS
    assert cells(tokens, tables[1])[1][:3] == ["jpeg", "jpeg2000", "-12.50"]
    for start in tables[2:]:
        rows = cells(tokens, start)
        # every class is one row, its name as text (a line break becomes a space)
        assert [row[0] for row in rows[1:]] == [name.replace("\n", " ") for name in CLASSES]
        assert all(len(row) == len(rows[0]) for row in rows)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h3"]
    assert headings == SETTINGS
    assert "|---:|" in text and "|:---|" in text  # numbers right-aligned


def test_latex_tables_have_booktabs_units_captions_and_the_bd_table(summary):
    text = render_tables(summary, "latex", BDRATE, MANIFEST)
    assert text.count(r"\begin{table}") == 1 + 1 + len(SETTINGS)
    assert text.count(r"\toprule") == text.count(r"\midrule") == text.count(r"\bottomrule") == 4
    assert text.count(r"\caption{") == 4 and r"\label{tab:compbench-bd-0}" in text
    assert r"\begin{tabular}{lrrrrrrrrrrr}" in text  # numbers right-aligned
    assert "PSNR (dB) & SNR (dB) & SSIM & entropy (bits)" in text and "snr\\_db" not in text
    assert r"jpeg & jpeg2000 & $-$12.50 & $+$0.750 & 4 vs 4 \\" in text
    assert r"a\textbar{}b" in text and r"\textless{}b\textgreater{}bold" in text and "two lines" in text
    assert text == render_tables(summary, "latex_booktabs", BDRATE, MANIFEST)


def test_the_terminal_keeps_a_format_it_can_show():
    assert terminal_format("latex") == terminal_format("html") == "simple"
    assert terminal_format("github") == "github"


def test_history_of_a_sweep_keeps_its_plot_and_a_readable_legend(tmp_path):
    settings = [f"jpeg:quality={q}" for q in range(1, 101, 3)]  # 34 lines
    runs = [f"20261202-0{k}0000-jpeg-a-long-folder-name" for k in range(4)]
    frame = pd.DataFrame(np.arange(len(runs))[:, None] + np.arange(len(settings))[None, :] / 10.0,
                         index=runs, columns=settings)
    frame.attrs.update(metric="psnr", cls="all", axis="PSNR (dB)")
    few = plot_history(frame.iloc[:, :3], tmp_path / "few.png")
    many = plot_history(frame, tmp_path / "many.png", note="the runs measured different images")
    with Image.open(few) as small, Image.open(many) as large:
        # the legend goes below the plot, in columns, and the figure grows by its height:
        # the plot area keeps its size instead of collapsing beside a 34-entry legend
        assert large.height > small.height + 100 and large.width >= small.width
        pixels = np.asarray(large.convert("L"))
    # the plot's frame spans most of the width (a legend beside it would take half)
    dark_columns = np.flatnonzero((pixels[: small.height // 2] < 60).sum(axis=0) > small.height // 4)
    assert dark_columns.max() - dark_columns.min() > 0.6 * large.width


def test_history_plot_goes_into_the_newest_run_and_notes_different_images(cli, tmp_path):
    for name, limit in (("old", 4), ("new", 6)):
        done = cli("run", "--codecs", "jpeg", "--limit", limit, "--out", tmp_path / name, "--quiet", "--no-figures")
        assert done.returncode == 0, done.stderr
    done = cli("history", tmp_path / "old", tmp_path / "new", "--metric", "bpp")
    assert done.returncode == 0, done.stderr
    assert f"plot: {tmp_path / 'new' / 'history_bpp.png'}" in done.stdout
    assert (tmp_path / "new" / "history_bpp.png").is_file() and not (tmp_path / "history.png").exists()
    assert "note: the runs measured different images (mnist test x4, mnist test x6)" in done.stderr
    manifest = json.loads((tmp_path / "new" / "manifest.json").read_text())
    assert manifest["presentation"] == {"paper_figures": True, "compare_at": None}

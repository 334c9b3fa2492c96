"""Names are whatever the file system allows: class folders and files whose names hold a newline,
a tab, ``|``, ``<script>``, a leading ``=``/``+``/``-``/``@``, a backslash, bytes that are not
UTF-8, or that pandas would take for a missing value (``NA``, ``None``) go through a run end to
end. records.csv and summary.csv parse to the right rows, two
names are never written the same, the terminal, summary.md and report.html show them escaped
for their format, and ``--resume`` matches them (issue 20)."""

import csv
import html
import io
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import run_cli
from PIL import Image

from compbench.store.names import written_name, written_text
from compbench.store.schema import TIMING_COLUMNS

#: class folders and files, as bytes: what the file system holds
CLASSES = [b"plain", b"cl|ass", b"<b>bold", b"=SUM(A1)", b"caf\xe9", b"new\nline", b"a*b_c", b"NA", b"None"]
FILES = [b"a\nb.png", b"tab\there.png", b"x|y.png", b"<script>alert(1).png", b"=1+2.png", b"+plus.png",
         b"-minus.png", b"@at.png", b"caf\xe9.png", b"caf\\xe9.png", b"cr\rx.png", b'q"uote,comma.png']
#: a file that is no image, named badly too: skipped, and named on the terminal in one line
NOT_AN_IMAGE = b"plain/notes\n\xff.txt"
CODECS = "png,jpeg"
SETTINGS = ["png", "jpeg:quality=75"]


def text_of(raw: bytes) -> str:
    return os.fsdecode(raw)  # how Python sees a file name: undecodable bytes as surrogates


def expected_images() -> list[str]:
    """records.csv's ``image`` of every file, as results write it."""
    return sorted(written_name(text_of(c + b"/" + f)) for c in CLASSES for f in FILES)


def make_folder(root: Path) -> Path:
    rng = np.random.default_rng(0)
    base = os.fsencode(root)
    os.mkdir(base)
    for class_name in CLASSES:
        os.mkdir(os.path.join(base, class_name))
        for file_name in FILES:
            data = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (16, 16), dtype=np.uint8)).save(data, format="PNG")
            fd = os.open(os.path.join(base, class_name, file_name), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            os.write(fd, data.getvalue())
            os.close(fd)
    fd = os.open(os.path.join(base, NOT_AN_IMAGE), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.write(fd, b"not an image\n")
    os.close(fd)
    return root


# -- the escape itself -----------------------------------------------------------------------------

def test_plain_names_are_kept_as_they_are():
    for name in ("cats/a.png", "x|y.png", "<script>.png", "=1+2", "café/é.png", "日本/猫.png", "a b"):
        assert written_name(name) == name


def test_every_written_name_is_one_printable_utf8_line():
    for raw in [*FILES, *CLASSES, b"\x1b[31mred", b"nel\xc2\x85x", b"ls\xe2\x80\xa8x", b"\x7fdel", b"\xff\xfe"]:
        written = written_name(text_of(raw))
        written.encode("utf-8")  # no surrogates left
        assert written.isprintable(), written
        assert len(written.splitlines()) == 1, written  # str.splitlines breaks at \x85 and \u2028 too


def test_two_different_names_are_never_written_the_same():
    raws = [b"caf\xe9", b"caf\\xe9", b"a\nb", b"a\\nb", b"a\\\\nb", b"t\tb", b"t\\tb", b"nel\xc2\x85", b"nel\x85",
            b"nel\\u0085", b"x\x01", b"x\\x01", b"back\\slash", b"back\\\\slash", b"\xe9", b"\xc3\xa9"]
    written = [written_name(text_of(raw)) for raw in raws]
    assert len(set(written)) == len(raws), written


def test_messages_keep_their_backslashes_but_not_their_line_breaks():
    assert written_text("C:\\path failed") == "C:\\path failed"
    assert written_text("line one\nline two") == "line one\\nline two"


# -- a run over such a folder ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def named_run(tmp_path_factory):
    """A run of png and jpeg over the folder; the folder, the results and the CLI's output."""
    base = tmp_path_factory.mktemp("names")
    make_folder(base / "data")
    out = base / "out"
    done = run_cli("run", "--dataset", "folder:path=data", "--codecs", CODECS, "--out", out, "--quiet", cwd=base)
    return base, out, done


@pytest.mark.slow
def test_the_run_goes_through_and_records_parse_to_every_image_once(named_run):
    _, out, done = named_run
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    records = pd.read_csv(out / "records.csv", dtype=str, keep_default_na=False)
    assert len(records) == len(CLASSES) * len(FILES) * len(SETTINGS)
    assert not records.duplicated(["setting", "image"]).any()
    for setting in SETTINGS:
        assert sorted(records.loc[records["setting"] == setting, "image"]) == expected_images(), setting
    assert (records["error"] == "").all()
    assert set(records["class"]) == {written_name(text_of(c)) for c in CLASSES}
    # one record per line: the file has exactly a header and one line per record
    assert (out / "records.csv").read_bytes().count(b"\n") == len(records) + 1


@pytest.mark.slow
def test_the_summary_and_the_terminal_show_every_class(named_run):
    _, out, done = named_run
    classes = {written_name(text_of(c)) for c in CLASSES}
    summary = pd.read_csv(out / "summary.csv", dtype={"class": str}, keep_default_na=False)
    assert len(summary) == (len(CLASSES) + 1) * len(SETTINGS)
    assert set(summary["class"]) == classes | {"all"}
    lines = done.stdout.splitlines()
    for name in classes:  # the class table: one row per class, the name at its start
        assert sum(line.startswith(name + " ") for line in lines) == 1, (name, done.stdout)
    skipped = written_name(text_of(NOT_AN_IMAGE))
    assert f"note: skipped {skipped}: not an image file Pillow can read\n" in done.stderr


@pytest.mark.slow
def test_compare_and_history_read_the_run(named_run, tmp_path):
    base, out, _ = named_run  # classes named "NA" and "None" are names, not missing values
    compared = run_cli("compare", out, out, "--markdown", tmp_path / "c.md", "--json", tmp_path / "c.json", cwd=base)
    assert compared.returncode == 0 and "PASS" in compared.stdout, compared.stderr
    history = run_cli("history", out, "--class", "NA", "--plot", tmp_path / "h.png", cwd=base)
    assert history.returncode == 0, history.stderr


@pytest.mark.slow
def test_the_report_escapes_every_name(named_run):
    _, out, _ = named_run
    page = (out / "report.html").read_text()
    assert "<script>alert" not in page and "<b>bold" not in page
    assert html.escape("<b>bold") in page


def markdown_tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text (CommonMark with GFM tables) as rows of rendered cell
    texts; raw HTML anywhere fails."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    tables, row = [], None
    for token in tokens:
        assert token.type != "html_block", token.content
        if token.type == "table_open":
            tables.append([])
        elif token.type == "tr_open":
            row = []
            tables[-1].append(row)
        elif token.type == "inline" and row is not None:
            assert not any(child.type == "html_inline" for child in token.children or ()), token.content
            row.append("".join(child.content for child in token.children or ()))
        elif token.type == "tr_close":
            row = None
    return tables


@pytest.mark.slow
def test_summary_md_is_markdown_tables_with_the_names_escaped(named_run):
    _, out, _ = named_run
    tables = markdown_tables((out / "summary.md").read_text())
    assert len(tables) == 1 + len(SETTINGS)  # overall, then one per setting
    classes = sorted(written_name(text_of(c)) for c in CLASSES)
    for table in tables[1:]:
        assert sorted(row[0] for row in table[1:] if row[0] != "all") == classes
        assert len({len(row) for row in table}) == 1  # no | in a name splits a cell


def comparable(path: Path) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    blank = [rows[0].index(column) for column in TIMING_COLUMNS]
    return [[("" if i in blank and n else field) for i, field in enumerate(row)] for n, row in enumerate(rows)]


@pytest.mark.slow
def test_resume_matches_the_names(named_run, tmp_path):
    base, out, _ = named_run
    work = tmp_path / "copy"
    shutil.copytree(base, work, symlinks=True)
    resumed = work / "out"
    lines = (resumed / "records.csv").read_bytes().splitlines(keepends=True)
    (resumed / "records.csv").write_bytes(b"".join(lines[:len(lines) // 2]))  # what a SIGKILL leaves
    done = run_cli("run", "--dataset", "folder:path=data", "--codecs", CODECS, "--out", "out", "--quiet",
                   "--resume", cwd=work)
    assert done.returncode == 0, done.stderr
    assert comparable(resumed / "records.csv") == comparable(out / "records.csv")

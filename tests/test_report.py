"""The HTML report: a real small results folder, parsed; and the page in headless Chromium."""

import base64
import html
import importlib.util
import io
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from conftest import skip_unless_ci
from PIL import Image

from compbench import api
from compbench.contracts.errors import CompbenchError
from compbench.contracts.registry import build_registry
from compbench.present.report import write_report

ZLIBRAW = Path(__file__).parent / "thirdparty" / "compbench_zlibraw" / "compbench_zlibraw.py"
#: PNGs dropped into the folder: name -> (pixel size, dpi); a 150-dpi figure is shown at 2/3
#: size, and the wide one (fig7) gets a click-to-zoom toggle
FIGURES = {"rd_psnr_bpp.png": ((60, 40), None), "fig6_jpeg_quality=75.png": ((70, 40), None),
           "fig7_comparison.png": ((2400, 300), 150), "fig9_bpp.png": ((90, 40), 150),
           "fig10_snr.png": ((100, 40), None), "loss_curve.png": ((110, 40), None)}
SHOWN_WIDTH = {name: size[0] * 100 // (dpi or 100) for name, (size, dpi) in FIGURES.items()}
#: as compbench.analysis.bdrate writes it
BDRATE = pd.DataFrame({
    "codec": ["jpeg2000", "jpeg2000"], "anchor": ["jpeg", "jpeg"], "class": ["all", "3"],
    "quality": ["psnr", "psnr"], "rate": ["bpp", "bpp"],
    "bd_rate_pct": [-41.5, float("nan")], "bd_quality": [2.75, float("nan")],
    "points": [4, 2], "anchor_points": [4, 4], "overlap_low": [20.0, float("nan")],
    "overlap_high": [43.8, float("nan")], "rate_overlap_low": [1.9, 3.0], "rate_overlap_high": [4.3, 3.1],
    "warning": ["", "curves do not overlap <20 dB> & too few points; only 2 points"]})


def _zlibraw_plugin():
    """The test suite's lossless third-party codec, loaded from its file (not installed)."""
    spec = importlib.util.spec_from_file_location("report_test_zlibraw", ZLIBRAW)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png(path: Path, size=(60, 40), colour=(30, 90, 200), dpi=None) -> None:
    Image.new("RGB", size, colour).save(path, **({"dpi": (dpi, dpi)} if dpi else {}))


@pytest.fixture(scope="session")
def results(tmp_path_factory) -> Path:
    """A real run (jpeg, jpeg2000 and the lossless zlibraw, 3 images a class) plus a few PNGs
    named as the plot modules name theirs and a synthetic bdrate.csv."""
    out = tmp_path_factory.mktemp("report") / "run"
    registry = build_registry(extra_plugins=[("zlibraw", _zlibraw_plugin())])
    api.run("jpeg,jpeg2000,zlibraw", per_class=3, out=out, jobs=1, registry=registry,
            command="compbench run --codecs jpeg,jpeg2000,zlibraw --per-class 3")
    for made in [*out.glob("*.png"), *out.glob("*.svg")]:  # the run's own figures, if it drew any:
        made.unlink()  # the tests need a known set
    for i, (name, (size, dpi)) in enumerate(FIGURES.items()):
        _png(out / name, size, colour=(40 * i, 90, 200), dpi=dpi)
    BDRATE.to_csv(out / "bdrate.csv", index=False)
    return out


@pytest.fixture(scope="session")
def report(results) -> "Report":
    path = write_report(results)
    return Report(path.read_text(encoding="utf-8"), path)


class Report(HTMLParser):
    """The parts of the page the tests look at: tables (attributes, body rows as cell texts),
    images, every URL-bearing attribute and where each image sits."""

    def __init__(self, text: str, path: Path | None = None):
        super().__init__()
        self.text, self.path = text, path
        self.tables: list[dict] = []
        self.images: list[dict] = []
        self.urls: list[str] = []
        self._stack: list[dict] = []  # open tables
        self._cell: list[str] | None = None
        self._in_body = False
        self._figure_group = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.urls += [value for name, value in attrs.items() if name in ("src", "href", "srcset", "action")]
        if tag == "div" and (attrs.get("id") or "").startswith("figures-"):
            self._figure_group = attrs["id"][len("figures-"):]
        if tag == "img":
            self.images.append({**attrs, "group": self._figure_group})
        elif tag == "table":
            self._stack.append({"attrs": attrs, "rows": [], "row_classes": []})
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._stack and self._in_body:
            self._stack[-1]["rows"].append([])
            self._stack[-1]["row_classes"].append(attrs.get("class") or "")
        elif tag in ("td", "th") and self._stack and self._in_body and self._cell is None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self._stack and self._stack[-1]["rows"]:
            self._stack[-1]["rows"][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table" and self._stack:
            self.tables.append(self._stack.pop())
            self._in_body = bool(self._stack)

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def table(self, **attrs) -> dict:
        found = [t for t in self.tables if all(t["attrs"].get(k) == v for k, v in attrs.items())]
        assert len(found) == 1, f"{len(found)} tables with {attrs}"
        return found[0]

    def per_class(self) -> list[dict]:
        return [t for t in self.tables if "per-class" in (t["attrs"].get("class") or "").split()]


def _settings(results: Path) -> list[str]:
    summary = pd.read_csv(results / "summary.csv", dtype={"class": str})
    return list(dict.fromkeys(summary["setting"]))


def _copy(results: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(results, copy, ignore=shutil.ignore_patterns("report.html"))
    return copy


# ---------------------------------------------------------------- the page


def _outside_scripts(text: str) -> str:
    """The page without its script elements (plotly.js's licence comments name web sites)."""
    return re.sub(r"<script\b.*?</script>", "", text, flags=re.S)


def test_report_is_one_self_contained_file(report, results):
    assert report.path == results / "report.html" and report.path.is_file()
    page = _outside_scripts(report.text)
    assert "http://" not in page and "https://" not in page
    assert 'src="/' not in report.text and "src='/" not in report.text
    assert "<link" not in report.text and "@import" not in report.text and "url(" not in page
    # every URL is an embedded image or a link within the page; the scripts are inline
    assert report.urls and all(u.startswith(("data:image/png;base64,", "#")) for u in report.urls)
    assert "<script src" not in report.text and report.text.count("window.Plotly = Plotly") == 1
    assert not list(results.glob("*.partial"))


def test_every_png_is_embedded_and_decodes(report, results):
    assert len(report.images) == len(list(results.glob("*.png"))) == len(FIGURES)
    sizes = {size for size, _ in FIGURES.values()}
    for image in report.images:
        prefix = "data:image/png;base64,"
        assert image["src"].startswith(prefix)
        with Image.open(io.BytesIO(base64.b64decode(image["src"][len(prefix):], validate=True))) as png:
            png.load()
            assert png.size in sizes
            assert image["style"] == f"--full-width:{png.width}px"
        assert image["alt"]


def test_figures_are_grouped_by_file_name_and_shown_at_100_dpi(report):
    groups = {}
    for image in report.images:
        groups.setdefault(image["group"], []).append(int(image["width"]))
    assert groups == {"rd": [SHOWN_WIDTH["rd_psnr_bpp.png"]], "comparison": [SHOWN_WIDTH["fig7_comparison.png"]],
                      "paper": [SHOWN_WIDTH["fig6_jpeg_quality=75.png"], SHOWN_WIDTH["fig9_bpp.png"],
                                SHOWN_WIDTH["fig10_snr.png"]],  # 9 before 10
                      "other": [SHOWN_WIDTH["loss_curve.png"]]}
    assert SHOWN_WIDTH["fig7_comparison.png"] == 1600 and SHOWN_WIDTH["fig9_bpp.png"] == 60
    assert "Fig. 9: " in report.text and "(fig10_snr.png)" in report.text
    assert "Rate-distortion: psnr vs bpp" in report.text
    # the section names only the paper's figures that were drawn (no Fig. 8 here)
    assert "<h2>The paper&#39;s figures (Figs. 6, 9-10)</h2>" in report.text
    # every figure says what its error bars are
    assert report.text.count("error bars: ±1 standard deviation") == 2 * 2  # caption and alt text of Figs. 9, 10
    assert "no error bars" in report.text
    # only the figure wider than the page gets the zoom toggle
    assert report.text.count('class="zoom"') == 1 and 'id="zoom-fig7_comparison"' in report.text


def test_summary_table_has_one_row_per_setting(report, results):
    table = report.table(id="summary")
    settings = _settings(results)
    assert settings == ["jpeg:quality=75", "jpeg2000:psnr=30", "zlibraw:level=6"]
    assert [row[0] for row in table["rows"]] == settings
    assert all(row[1] == "30" and row[2] == "0" for row in table["rows"])  # images, errors
    # one heading per metric, from its declaration: the label, the shown unit below it
    for label, unit in (("bpp pooled", "bits/pixel"), ("bpp payload", "bits/pixel"), ("PSNR", "dB"),
                        ("SNR", "dB"), ("SSIM", ""), ("entropy", "bits"), ("paper SNR", ""), ("encode", "ms"),
                        ("decode", "ms")):
        unit_html = f'<span class="unit">{unit}</span>' if unit else ""
        assert f">{label}{unit_html}</th>" in report.text, label


def test_lossless_psnr_shows_as_lossless(report):
    rows = {row[0]: row for row in report.table(id="summary")["rows"]}
    assert "lossless" in rows["zlibraw:level=6"]  # psnr and snr_db are +inf
    assert "lossless" not in rows["jpeg:quality=75"]
    assert "inf" not in " ".join(" ".join(row) for row in rows.values())


def test_per_class_tables_have_classes_and_all(report, results):
    tables = report.per_class()
    assert [t["attrs"]["data-setting"] for t in tables] == _settings(results)
    for table in tables:
        assert [row[0] for row in table["rows"]] == [str(c) for c in range(10)] + ["all"]
        assert table["row_classes"][-1] == "all"
        assert all(len(row) == 2 + 6 for row in table["rows"])  # class, images, 6 metrics
    zlib = next(t for t in tables if t["attrs"]["data-setting"] == "zlibraw:level=6")
    assert all(row[3] == "lossless" for row in zlib["rows"])  # psnr column


def test_bdrate_table_with_numbered_warnings(report):
    table = report.table(id="bdrate")
    assert len(table["rows"]) == len(BDRATE)
    first, second = table["rows"]
    assert first == ["jpeg2000", "jpeg", "all", "psnr", "bpp", "-41.50", "+2.750", "4 vs 4",
                     "20..43.8", "1.9..4.3", ""]
    assert second[5:9] == ["-", "-", "2 vs 4", "none"] and second[-1] == "1, 2"
    assert table["row_classes"] == ["ok", "warn"]
    warnings = BDRATE["warning"][1].split("; ")
    assert "curves do not overlap &lt;20 dB&gt; &amp; too few points" in report.text
    assert report.text.count('<li id="bd-warning-') == len(warnings)
    assert '<li id="bd-warning-2">only 2 points</li>' in report.text
    assert "1 of 2 comparisons carry a warning" in report.text


def test_bdrate_with_unknown_columns(results, tmp_path):
    folder = _copy(results, tmp_path)
    pd.DataFrame({"codec": ["webp"], "anchor": ["jpeg"], "class": ["all"], "bd_rate_pct": [12.3456],
                  "bd_ssim": [0.01234], "method": ["akima"], "warning": [""]}).to_csv(
        folder / "bdrate.csv", index=False)
    page = Report(write_report(folder).read_text())
    assert page.table(id="bdrate")["rows"] == [["webp", "jpeg", "all", "+12.35", "0.012", "akima", ""]]
    assert "<ol" not in page.text


def test_header_manifest_and_metric_note(report, results):
    manifest = json.loads((results / "manifest.json").read_text())
    text = report.text
    for fact in ("mnist", "test", manifest["started"].replace("T", " "),
                 "compbench run --codecs jpeg,jpeg2000,zlibraw --per-class 3"):
        assert fact in text
    # git_commit is None where compbench is installed from a wheel (as in CI's clean clone)
    commit = manifest["git_commit"]
    assert f"<dt>git commit</dt><dd>{commit}</dd>" in text if commit else "<dt>git commit</dt>" not in text
    assert '<code id="command">' in text
    checksums = report.table(id="manifest")
    assert any(row[0] == "dataset_checksums" for row in checksums["rows"])
    for checksum in manifest["dataset_checksums"].values():
        assert checksum in text
    assert "compbench==" in text and "libjpeg" in text  # plugins, codec libraries
    assert "mean(y) / std(y)" in text and "histogram of y" in text and "real," in text


def test_text_from_the_folder_is_escaped(results, tmp_path):
    folder = _copy(results, tmp_path)
    label = 'jpeg:<script>alert("x")</script>&q=75'
    summary = pd.read_csv(folder / "summary.csv", dtype={"class": str})
    summary["setting"] = summary["setting"].replace("jpeg:quality=75", label)
    summary.to_csv(folder / "summary.csv", index=False)
    records = pd.read_csv(folder / "records.csv", keep_default_na=False, dtype={"class": str})
    records["setting"] = records["setting"].replace("jpeg:quality=75", label)
    records.to_csv(folder / "records.csv", index=False)
    manifest = (folder / "manifest.json").read_text().replace(
        '"command": "', '"command": "<b>bold</b> ')
    (folder / "manifest.json").write_text(manifest)
    _png(folder / "rd_<x>.png")

    page = Report(write_report(folder).read_text())
    # nowhere raw: not in the markup, not in the JSON the charts read (its "<" is \u003c)
    assert "<script>alert" not in page.text and "<b>bold" not in page.text and "rd_<x>" not in page.text
    assert "jpeg:&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;q=75" in page.text
    assert "jpeg:\\u003cscript\\u003ealert" in page.text
    assert page.table(id="summary")["rows"][0][0] == label
    assert page.per_class()[0]["attrs"]["data-setting"] == label
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text


def test_works_with_only_summary_and_manifest(results, tmp_path):
    folder = tmp_path / "bare"
    folder.mkdir()
    for name in ("summary.csv", "manifest.json"):
        shutil.copy(results / name, folder / name)
    page = Report(write_report(folder, out_name="index.html").read_text())
    assert (folder / "index.html").is_file()
    assert not page.images and 'id="bdrate"' not in page.text and 'id="figures"' not in page.text
    assert len(page.table(id="summary")["rows"]) == 3


def test_broken_png_is_named_not_embedded(results, tmp_path):
    folder = _copy(results, tmp_path)
    (folder / "fig8_entropy.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated by a crash")
    page = Report(write_report(folder).read_text())
    assert len(page.images) == len(FIGURES)
    assert "figure fig8_entropy.png left out" in page.text


def test_failed_images_are_listed(results, tmp_path):
    folder = _copy(results, tmp_path)
    records = pd.read_csv(folder / "records.csv", keep_default_na=False)
    records.loc[[4, 7], "error"] = ["EncodeError: <boom>", "decode crashed"]
    records.to_csv(folder / "records.csv", index=False)
    summary = pd.read_csv(folder / "summary.csv", dtype={"class": str})
    summary.loc[summary["class"] == "all", "errors"] = [2, 0, 0]
    summary.to_csv(folder / "summary.csv", index=False)
    page = Report(write_report(folder).read_text())
    rows = page.table(id="failures")["rows"]
    assert [row[-1] for row in rows] == ["EncodeError: <boom>", "decode crashed"]
    first = page.table(id="summary")["rows"][0]
    assert first[0] == "jpeg:quality=75" and first[2] == "2"  # errors


def test_not_a_results_folder(tmp_path):
    with pytest.raises(CompbenchError, match="not a compbench results folder"):
        write_report(tmp_path)


# ---------------------------------------------------------------- a run of photographs

#: class folders whose names are markup a page must show as text (a folder name holds no "/")
CLASSES = ("<img src=x onerror=alert(1)>", "a|b", "plain")
PHOTO_CODECS = "jpeg:quality=5|30|90,webp:quality=5|30|90"


@pytest.fixture(scope="session")
def photo_run(tmp_path_factory) -> Path:
    """A sweep over a folder of photographs (256x192 crops of scikit-image's) in class folders
    named like markup; the run's own report (crops at matched rates, per-image tables)."""
    import skimage.data

    root = tmp_path_factory.mktemp("photos") / "images"
    pictures = [skimage.data.astronaut(), skimage.data.camera(), skimage.data.coffee(), skimage.data.chelsea(),
                skimage.data.rocket(), skimage.data.immunohistochemistry()]
    for k, picture in enumerate(pictures):
        folder = root / CLASSES[k % len(CLASSES)]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(picture[40:232, 60:316]).save(folder / f"photo{k}.png")
    out = root.parent / "run"
    api.run(PHOTO_CODECS, dataset=f"folder:path={root}", out=out, jobs=1, command="compbench run (photos)")
    return out


def test_photographs_get_no_paper_figures_and_crops_at_matched_rates(photo_run):
    from compbench.present.matched import match_settings

    files = {p.name for p in photo_run.glob("*.png")}
    assert "fig7_comparison.png" in files and not files & {"fig8_entropy.png", "fig9_bpp.png", "fig10_snr.png"}
    page = Report((photo_run / "report.html").read_text())
    assert "The paper&#39;s figures" not in page.text and 'href="#paper"' not in page.text
    summary = pd.read_csv(photo_run / "summary.csv", dtype={"class": str})
    matched = match_settings(summary)
    crops = page.table(id="crops")
    assert [row[0] for row in crops["rows"]]  # one row per sample image
    for setting in matched.settings.values():
        assert f'<span class="unit">{setting}</span>' in page.text
    # 1:1: a 256x192 photograph's crop is 192 px wide and shown at that size
    assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="original, image \d+" width="192" height="192"',
                     page.text)
    # class names stay text everywhere
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;" in page.text


# ---------------------------------------------------------------- in a real browser


def _chromium() -> str:
    from browser import find_chromium

    chromium = find_chromium()
    if chromium is None:
        skip_unless_ci("Chromium is not installed (set CHROMIUM to its path)")
    return chromium


@pytest.fixture(scope="module")
def photo_page(photo_run, tmp_path_factory):
    """The photographs' report in one headless Chromium, opened with the network off, at 1366 px."""
    from browser import Browser

    with Browser(_chromium(), timeout=120, width=1366, height=768) as browser:
        page = browser.open((photo_run / "report.html").as_uri(), offline=True)
        assert page.evaluate("window.compbenchReady") == ["fulfilled"] * 3
        yield page


LAYOUT = """(() => {  // what is wider than the screen, outside a table's own scrolling box
    const over = [];
    for (const el of document.querySelectorAll("body *")) {
        const r = el.getBoundingClientRect();
        if (r.right > innerWidth + 0.5 && !el.closest(".table-wrap")) over.push(el.tagName + "#" + el.id);
    }
    const wraps = [...document.querySelectorAll(".table-wrap")];
    return {over, page: document.documentElement.scrollWidth, main: document.querySelector("main").clientWidth,
            wrapsFit: wraps.every(w => w.getBoundingClientRect().right <= innerWidth + 0.5),
            scrolling: wraps.filter(w => w.scrollWidth > w.clientWidth).map(w => [w.dataset.table,
                getComputedStyle(w).overflowX, getComputedStyle(w.querySelector("thead th")).position,
                getComputedStyle(w.querySelector("tbody tr > :first-child")).position])};
})()"""


@pytest.mark.browser
@pytest.mark.parametrize("width", [1366, 1920])
def test_nothing_is_wider_than_the_screen(photo_page, width):
    photo_page.resize(width, 900 if width == 1366 else 1080)
    layout = photo_page.evaluate(LAYOUT)
    assert layout["over"] == [] and layout["page"] == width and layout["wrapsFit"]
    # a table wider than its box scrolls inside it, header and first column held
    for name, overflow, head, first in layout["scrolling"]:
        assert (overflow, head) == ("auto", "sticky"), name
        assert first == "sticky" or name in ("manifest", "metric-definitions"), name
    if width == 1920:  # the width of a large screen is used, not a 1240-px column
        assert layout["main"] > 1800
    photo_page.resize(1366, 768)
    photo_page.evaluate(SETTLED)  # plotly redraws its charts to the new width


#: resolves once resizes and redraws are done (a few frames later)
SETTLED = "new Promise(done => setTimeout(done, 400))"

#: the value of an expression once a condition on it (``value``) holds, or after 15 s (a hang
#: bound on a loaded machine, not a speed limit): the page acts on a click in its own time
#: (plotly waits out a double-click first)
UNTIL = """new Promise(done => {
    const end = Date.now() + 15000;
    (function look() {
        const value = (%s);
        if ((%s) || Date.now() > end) done(value); else setTimeout(look, 25);
    })();
})"""


POINT = """((trace) => {  // where a trace's first point is on the screen
    const gd = document.getElementById("rd-chart");
    gd.scrollIntoView({block: "center"});
    const full = gd._fullData[trace], xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
    const box = gd.getBoundingClientRect();
    return {x: box.left + xa._offset + xa.d2p(full.x[0]), y: box.top + ya._offset + ya.d2p(full.y[0]),
            setting: full.customdata[0][0], name: full.name};
})(%d)"""


@pytest.mark.browser
def test_hovering_a_point_shows_its_setting(photo_page):
    hover_text = 'document.querySelector("#rd-chart .hoverlayer").textContent'
    for _ in range(5):  # the point is found again after each try: a late redraw may move it
        photo_page.evaluate(SETTLED)
        point = photo_page.evaluate(POINT % 0)
        photo_page.mouse("mouseMoved", point["x"], point["y"])
        hover = photo_page.evaluate(UNTIL.replace("15000", "3000") % (hover_text, "value.includes('images:')"))
        if hover:
            break
    assert point["setting"] in hover and "images: 6" in hover


LEGEND = """(() => {  // on the screen first: a click lands only where the page is shown
    document.getElementById("rd-chart").scrollIntoView({block: "center"});
    const item = document.querySelectorAll("#rd-chart .legend .traces")[0];
    const box = item.querySelector(".legendtoggle").getBoundingClientRect();
    return {x: box.left + 10, y: box.top + box.height / 2, name: item.textContent};
})()"""


@pytest.mark.browser
def test_a_legend_click_hides_a_codec(photo_page):
    drawn = "document.querySelectorAll('#rd-chart .scatterlayer .trace').length"
    before = photo_page.evaluate(drawn)
    item = photo_page.evaluate(LEGEND)
    photo_page.evaluate(SETTLED)  # the scroll
    item = photo_page.evaluate(LEGEND)
    photo_page.click(item["x"], item["y"])
    after = photo_page.evaluate(UNTIL % (drawn, f"value === {before - 1}"))
    state = photo_page.evaluate("document.getElementById('rd-chart')._fullData.map(t => [t.name, t.visible])")
    assert item["name"] == "jpeg" and ["jpeg", "legendonly"] in state and after == before - 1
    photo_page.click(item["x"], item["y"])  # and back
    assert photo_page.evaluate(UNTIL % (drawn, f"value === {before}")) == before


@pytest.mark.browser
def test_log_rate_axis_and_class_selector(photo_page):
    axis = "document.getElementById('rd-chart')._fullLayout.xaxis.type"
    photo_page.evaluate("document.getElementById('rd-linear').click()")
    assert photo_page.evaluate(UNTIL % (axis, "value === 'linear'")) == "linear"
    photo_page.evaluate("document.getElementById('rd-log').click()")
    assert photo_page.evaluate(UNTIL % (axis, "value === 'log'")) == "log"
    options = photo_page.evaluate("[...document.querySelectorAll('#rd-class option')].map(o => o.textContent)")
    assert options[0] == "all images" and sorted(options[1:]) == sorted(CLASSES)


PER_IMAGE = """(async () => {
    const table = document.getElementById("per-image-table");
    const rows = () => [...table.tBodies[0].rows].map(r => [...r.cells].map(c => c.textContent));
    const select = document.getElementById("per-image-setting");
    select.value = %s;
    select.dispatchEvent(new Event("change"));
    await new Promise(done => setTimeout(done, 300));
    const unsorted = rows();
    const heads = [...table.tHead.rows[0].cells];
    heads.find(th => th.dataset.key === "psnr").click();
    await new Promise(done => setTimeout(done, 300));
    return {unsorted, sorted: rows(), heads: heads.map(th => th.dataset.key), status:
            document.getElementById("per-image-status").textContent};
})()"""


@pytest.mark.browser
def test_per_image_table_unpacks_and_sorts(photo_page, photo_run):
    records = pd.read_csv(photo_run / "records.csv", keep_default_na=False, dtype={"class": str})
    setting = "webp:quality=30"
    mine = records[records["setting"] == setting]
    state = photo_page.evaluate(PER_IMAGE % json.dumps(setting))
    assert state["status"].startswith(f"rows 1-{len(mine)} of {len(mine)}")
    column = state["heads"].index("psnr")
    by_id = {int(row[0].split()[0]): row for row in state["unsorted"]}
    for _, record in mine.iterrows():  # the numbers the page unpacked are records.csv's, rounded
        row = by_id[int(record["index"])]
        assert row[column] == f"{record['psnr']:.3f}" and row[1] == record["class"]
    psnrs = [float(row[column]) for row in state["sorted"]]
    assert psnrs == sorted(psnrs) and len(psnrs) == len(mine)


@pytest.mark.browser
def test_the_page_needs_no_network_and_logs_no_error(photo_page, photo_run):
    # opened offline (the fixture): nothing but the file itself was asked for, nothing failed
    assert photo_page.errors == []
    assert photo_page.requests[0] == (photo_run / "report.html").as_uri()
    assert all(url.startswith("data:image/png;base64,") for url in photo_page.requests[1:])
    assert photo_page.evaluate("typeof Plotly") == "object"


PAGE_STATE = """(async () => {
    const images = [...document.images];
    await Promise.all(images.map(i => i.decode().catch(() => null)));
    const rows = t => t.tBodies[0].rows.length;
    return {
        images: images.length,
        decoded: images.filter(i => i.complete && i.naturalWidth > 0).length,
        shownWidths: images.map(i => i.width),
        summary: rows(document.getElementById("summary")),
        bdrate: rows(document.getElementById("bdrate")),
        perClass: [...document.querySelectorAll("table.per-class")].map(rows),
        numbersRight: getComputedStyle(document.querySelector("#summary td.num")).textAlign,
        width: document.documentElement.scrollWidth,
    };
})()"""



ZOOM = """(() => {  // click the wide figure: full size, scrolled inside its figure, not the page
    const label = document.querySelector("label[for=zoom-fig7_comparison]");
    const before = label.querySelector("img").width;
    label.click();
    return [before, label.querySelector("img").width, document.documentElement.scrollWidth];
})()"""


@pytest.mark.browser
def test_stored_folder_report_in_headless_chromium(results, report, tmp_path_factory):
    from browser import Browser

    shot = tmp_path_factory.mktemp("screenshots") / "report.png"
    with Browser(_chromium(), timeout=90, width=1366) as browser:
        page = browser.open(report.path.as_uri(), offline=True)
        assert page.evaluate("window.compbenchReady") == ["fulfilled"] * 3
        state = page.evaluate(PAGE_STATE)
        page.screenshot(shot)
        zoom = page.evaluate(ZOOM)
        errors = page.errors
    print(f"\nscreenshot: {shot}")
    assert errors == []
    assert state["images"] == len(FIGURES) and state["decoded"] == state["images"]
    assert state["summary"] == 3 and state["bdrate"] == len(BDRATE)
    assert state["perClass"] == [11, 11, 11]
    assert state["numbersRight"] == "right" and state["width"] == 1366
    assert zoom[1] == 2400 and zoom[0] < 1366 and zoom[2] == 1366


def test_issue_19_hooks_a_bd_matrix_and_reference_curves_are_drawn_when_given(results, tmp_path):
    from compbench.present.report import ReferenceCurve, ReportInputs, read_inputs

    folder = _copy(results, tmp_path)
    stored = read_inputs(folder)
    matrix = pd.DataFrame([[0.0, -41.5], [70.9, 0.0]], index=["jpeg2000", "jpeg"], columns=["jpeg2000", "jpeg"])
    kodak = ReferenceCurve("CompressAI JPEG (Kodak)", "bpp", "psnr", (0.5, 1.0), (28.0, 32.0), "results/image/kodak")
    inputs = ReportInputs(stored.summary, stored.manifest, stored.bdrate, per_image=stored.per_image,
                          bd_matrix=matrix, reference_curves=[kodak])
    text = write_report(folder, inputs).read_text()
    data = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>', text, re.S)[1])
    assert data["bd"]["matrix"] == {"rows": ["jpeg2000", "jpeg"], "columns": ["jpeg2000", "jpeg"],
                                    "values": [[0.0, -41.5], [70.9, 0.0]]}
    assert '<div id="bd-matrix"' in text
    assert data["rd"]["references"] == [{"name": "CompressAI JPEG (Kodak)", "rate": "bpp", "quality": "psnr",
                                         "rates": [0.5, 1.0], "qualities": [28.0, 32.0],
                                         "source": "results/image/kodak"}]


def test_a_run_makes_its_tables_and_report_page_while_its_figures_are_drawn(monkeypatch, tmp_path):
    """The finish overlaps the figures with all that needs none of them: the BD tables, the
    tables' files and the report's page; only the figures' embedding waits for them, and the
    page then shows the figures and the manifest that lists them."""
    from compbench.present import grids
    from compbench.present.report import page

    seen = []
    real_draw_all, real_prepare = grids.draw_all, page.prepare

    def draw_all(jobs, order=None, meanwhile=None):
        seen.append(("figures start", (tmp_path / "summary.csv").exists()))
        paths = real_draw_all(jobs, order, meanwhile)
        seen.append(("figures done", (tmp_path / "report.html").exists()))
        return paths

    monkeypatch.setattr(grids, "draw_all", draw_all)
    monkeypatch.setattr("compbench.pipeline.finish.prepare",
                        lambda inputs: (seen.append(("page prepared", (tmp_path / "summary.csv").exists())),
                                        real_prepare(inputs))[1])
    result = api.run("jpeg", sweep=True, limit=40, out=tmp_path, progress=False)
    assert seen == [("figures start", False), ("page prepared", True), ("figures done", False)]
    text = (tmp_path / "report.html").read_text()
    figures = result.manifest["figures"]
    assert "rd_psnr_bpp.png" in figures and "fig7_comparison.png" in figures
    assert all(name in text for name in figures)  # embedded (or named, Fig. 7 beside its crops)
    listed = json.loads(html.unescape(re.search(r"<summary>manifest.json</summary><pre>(.*?)</pre>", text, re.S)[1]))
    assert listed["figures"] == figures and listed["status"] == "complete"

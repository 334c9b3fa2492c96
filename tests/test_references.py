"""Published curves beside a run's own: CompressAI's results JSON and CSV read as reference
curves, compbench's curves exported in both formats and read back exactly, reference rows in a
run's BD tables, and malformed files refused in one line."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from curve_runs import LADDER_A, run

from compbench.analysis.bdrate import bd_rate
from compbench.analysis.export import run_curves
from compbench.analysis.references import read_reference_file, read_references, stored_references
from compbench.cli import main
from compbench.contracts.errors import CompbenchError
from compbench.present.charts import codec_colors, rd_figure
from compbench.store.results_folder import open_results
from compbench.store.summary import ALL

#: written by hand in CompressAI's results format (compressai/results/image/kodak/*.json): a
#: learned codec's eight points on MNIST-like rates, with the timing lists CompressAI adds
COMPRESSAI = {
    "name": "bmshj2018-factorized",
    "description": "Inference (ans)",
    "results": {
        "psnr-rgb": [21.5, 24.0, 27.25, 30.5, 33.0, 36.5, 40.0, 43.75],
        "ms-ssim-rgb": [0.91, 0.936, 0.955, 0.97, 0.98, 0.9878, 0.992, 0.995],
        "bpp": [1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0],
        "encoding_time": [0.029, 0.022, 0.044, 0.045, 0.045, 0.049, 0.06, 0.054],
        "decoding_time": [0.015, 0.014, 0.018, 0.019, 0.021, 0.031, 0.075, 0.039],
    },
}


@pytest.fixture
def compressai_file(tmp_path):
    path = tmp_path / "compressai-bmshj2018-factorized_mse_cpu.json"
    path.write_text(json.dumps(COMPRESSAI, indent=2))
    return path


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A real sweep of jpeg and jpeg2000 with a CompressAI reference, and the reference file."""
    root = tmp_path_factory.mktemp("references")
    reference = root / "bmshj2018.json"
    reference.write_text(json.dumps(COMPRESSAI))
    return run(LADDER_A, root / "run", limit=100, references=[reference]), reference


def test_a_compressai_results_file_is_read(compressai_file):
    (curve,) = read_reference_file(compressai_file)
    assert (curve.name, curve.description, curve.label) == ("bmshj2018-factorized", "Inference (ans)",
                                                             "bmshj2018-factorized (reference)")
    assert curve.metrics == ["psnr", "ms_ssim"]  # psnr-rgb, ms-ssim-rgb; the timings are not curves
    assert curve.bpp == tuple(COMPRESSAI["results"]["bpp"])
    rate, psnr = curve.curve("psnr")
    assert list(psnr) == COMPRESSAI["results"]["psnr-rgb"] and curve.curve("ssim") is None


PUBLISHED = Path(__file__).parent / "fixtures" / "compressai"  # files as CompressAI publishes them


@pytest.mark.parametrize("name, label, points", [("kodak-jpeg.json", "JPEG (reference)", 19),
                                                 ("kodak-bmshj2018-factorized_mse_cpu.json",
                                                  "bmshj2018-factorized (reference)", 8)])
def test_files_as_compressai_publishes_them_are_read(name, label, points):
    published = json.loads((PUBLISHED / name).read_text())["results"]
    (curve,) = read_reference_file(PUBLISHED / name)
    assert curve.label == label and len(curve.bpp) == points
    assert curve.bpp == tuple(published["bpp"])
    assert list(curve.curve("psnr")[1]) == published["psnr-rgb"]
    assert list(curve.curve("ms_ssim")[1]) == published["ms-ssim-rgb"]


def test_paper_keys_and_csv_files(tmp_path):
    paper = tmp_path / "paper.json"
    paper.write_text(json.dumps({"name": "official", "results": {"psnr": [26.7, 28.3], "ms-ssim": [0.9, 0.93],
                                                                 "bpp": [0.11, 0.19]}}))
    (official,) = read_reference_file(paper)
    assert official.metrics == ["psnr", "ms_ssim"]
    table = tmp_path / "curves.csv"
    table.write_text("name,bpp,psnr,ms-ssim-rgb\nvtm,0.1,28,0.93\nvtm,0.2,31,0.95\nhm,0.1,27,\nhm,0.3,30,\n")
    vtm, hm = read_references([table])
    assert (vtm.name, vtm.bpp, vtm.metrics) == ("vtm", (0.1, 0.2), ["psnr", "ms_ssim"])
    assert hm.metrics == ["psnr"]  # an empty column is a metric the curve lacks
    with pytest.raises(CompbenchError, match=r"reference name 'vtm' is also in .*curves.csv"):
        read_references([table, table])


@pytest.mark.parametrize("name,text,match", [
    ("bad.json", "{not json", r"bad.json: not JSON \(.*\); expected CompressAI's results format"),
    ("bad.json", "[1, 2]", r'bad.json: field "\(top level\)": expected an object with name and results, got list'),
    ("bad.json", '{"name": "x"}', r'bad.json: field "results": expected an object of lists'),
    ("bad.json", '{"name": "x", "results": {"psnr": [30]}}', r'field "results.bpp" is missing'),
    ("bad.json", '{"name": 7, "results": {"bpp": [1], "psnr": [30]}}',
     r'bad.json: field "name": expected a non-empty string, got 7'),
    ("bad.json", '{"results": {"bpp": [1, "two"], "psnr": [30, 31]}}',
     r'bad.json: field "results.bpp\[1\]": expected positive number, got "two"'),
    ("bad.json", '{"results": {"bpp": [1, -2], "psnr": [30, 31]}}', r'results.bpp\[1\]": expected positive number'),
    ("bad.json", '{"results": {"bpp": [1, 2], "psnr-rgb": [30]}}',
     r'bad.json: field "results.psnr-rgb" has 1 values; expected 2, one per bpp value'),
    ("bad.json", '{"results": {"bpp": [1, 2], "encoding_time": [1, 2]}}', r'"results" has no quality list'),
    ("bad.csv", "codec,bpp,psnr\nx,1,30\n", r"bad.csv: header codec,bpp,psnr: expected a header name,bpp,psnr"),
    ("bad.csv", "name,bpp,psnr\nx,1,thirty\n", r'bad.csv: line 2, column "psnr": expected a finite number, got \'thirty\''),
    ("bad.csv", "name,bpp,psnr\nx,0,30\n", r'line 2, column "bpp": expected a positive number'),
    ("bad.csv", "name,bpp,psnr\nx,1,30,4\n", r"bad.csv: line 2 has 4 fields; expected 3"),
    ("bad.csv", "name,bpp,psnr\nx,1,30\nx,2,\n", r'line 3, column "psnr": expected a finite number, got nothing'),
    ("bad.csv", "", r"bad.csv: header \(empty file\)"),
    ("missing.json", None, r"reference file .*missing.json not found"),
])
def test_malformed_files_are_one_line_naming_the_file_and_field(tmp_path, name, text, match):
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(CompbenchError, match=match) as caught:
        read_references([path])
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_a_malformed_reference_stops_every_command_before_it_starts(tmp_path, capsys, swept):
    bad = tmp_path / "bad.json"
    bad.write_text('{"results": {"bpp": [1, 2], "psnr-rgb": [30]}}')
    folder = swept[0].out_dir
    for argv in (["run", "--codecs", "jpeg", "--limit", "5", "--out", tmp_path / "never", "--reference", bad],
                 ["compare", folder, folder, "--curves", "--reference", bad],
                 ["report", folder, "--reference", bad]):
        assert main([str(a) for a in argv]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f'{bad}: field "results.psnr-rgb" has 1 values' in err
    assert not (tmp_path / "never").exists()


def test_export_then_import_gives_the_same_curves_to_the_last_digit(swept, tmp_path, capsys):
    folder = swept[0].out_dir
    assert main(["export", str(folder), "--out", str(tmp_path / "json")]) == 0
    assert main(["export", str(folder), "--format", "csv", "--out", str(tmp_path / "csv")]) == 0
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "json" / f"{c}.json") for c in ("jpeg", "jpeg2000")] \
        + [str(tmp_path / "csv" / "curves.csv")]
    exported, _ = run_curves(open_results(folder))
    from_json = read_references(sorted((tmp_path / "json").glob("*.json")))
    from_csv = read_references([tmp_path / "csv" / "curves.csv"])
    for curves in (from_json, from_csv):
        assert [(c.name, c.bpp, c.qualities) for c in curves] == [(c.name, c.bpp, c.qualities) for c in exported]
    summary = pd.read_csv(folder / "summary.csv", dtype={"class": str})
    jpeg = summary[(summary["codec"] == "jpeg") & (summary["class"] == ALL)].sort_values("bpp_mean")
    assert from_json[0].bpp == tuple(jpeg["bpp_mean"]) and from_json[0].curve("psnr")[1].tolist() == \
        jpeg["psnr_mean"].tolist()
    written = json.loads((tmp_path / "json" / "jpeg.json").read_text())
    assert set(written["results"]) >= {"bpp", "psnr-rgb", "ssim"} and written["name"] == "jpeg"


def test_a_run_measures_its_codecs_against_references(swept):
    result, reference = swept
    rows = result.reference_bdrate
    assert list(zip(rows["codec"], rows["anchor"], rows["quality"])) == [
        ("bmshj2018-factorized (reference)", "jpeg", "psnr"), ("bmshj2018-factorized (reference)", "jpeg2000", "psnr")]
    summary = result.summary[result.summary["class"] == ALL]
    for _, row in rows.iterrows():  # the reference is the test curve, the codec the anchor
        codec = summary[summary["codec"] == row["anchor"]]
        expected = bd_rate(codec["bpp_mean"], codec["psnr_mean"], COMPRESSAI["results"]["bpp"],
                           COMPRESSAI["results"]["psnr-rgb"]).value
        assert row["bd_rate_pct"] == pytest.approx(expected, rel=1e-12)
    assert rows["bd_rate_pct"].iloc[0] < 0  # the made-up curve needs fewer bits than JPEG on digits
    folder = result.out_dir
    assert pd.read_csv(folder / "bdrate_references.csv")["anchor"].tolist() == ["jpeg", "jpeg2000"]
    (stored,) = stored_references(folder)
    assert stored.bpp == tuple(COMPRESSAI["results"]["bpp"])
    bd = json.loads((folder / "manifest.json").read_text())["bd"]
    assert bd["anchor"] == "jpeg2000" and bd["reason"] is None
    assert bd["references"] == [{"name": "bmshj2018-factorized", "source": str(reference),
                                 "description": "Inference (ans)"}]
    assert bd["method"].startswith("Bjontegaard delta with piecewise cubic Hermite")


def test_a_codec_against_its_own_exported_curve_is_zero(swept, tmp_path, capsys):
    folder = swept[0].out_dir
    assert main(["export", str(folder), "--out", str(tmp_path)]) == 0
    assert main(["report", str(folder), "--reference", str(tmp_path / "jpeg.json")]) == 0
    rows = pd.read_csv(folder / "bdrate_references.csv")
    own = rows[(rows["anchor"] == "jpeg") & (rows["quality"] == "psnr")].iloc[0]
    assert own["codec"] == "jpeg (reference)" and own["bd_rate_pct"] == pytest.approx(0.0, abs=1e-9)


def test_reference_curves_are_drawn_dashed_and_labelled(swept):
    result, _ = swept
    references = read_references([swept[1]])
    fig = rd_figure(result.summary, "psnr", "bpp", codec_colors(["jpeg", "jpeg2000"]), references=references)
    (line,) = [line for line in fig.axes[0].lines if line.get_label() == "bmshj2018-factorized (reference)"]
    assert line.get_linestyle() == "--" and np.allclose(line.get_xdata(), COMPRESSAI["results"]["bpp"])
    no_psnr = rd_figure(result.summary, "ssim", "bpp", codec_colors(["jpeg", "jpeg2000"]), references=references)
    assert not [line for line in no_psnr.axes[0].lines if "reference" in line.get_label()]

"""compare --curves: each codec's curve in one run against its curve in another, whatever their
settings, on real runs; the gate on BD-rate; runs over different images."""

import json
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from curve_runs import IMAGES, JPEG_LADDER, LADDER_A, LADDER_B, padded_registry, run

from compbench.analysis.curve_gate import gate_curves
from compbench.analysis.curves import compare_curves
from compbench.cli import main
from compbench.contracts.errors import CompbenchError
from compbench.present.curve_text import curves_json, curves_markdown, curves_text
from compbench.store.summary import ALL


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """base and resampled: the same codecs over two ladders; padded: base's JPEG ladder with 5 %
    more bytes; fewer: base's JPEG ladder on fewer images; high: JPEG's top qualities only."""
    root = tmp_path_factory.mktemp("curves")
    run(LADDER_A, root / "base")
    run(LADDER_B, root / "resampled")
    run(JPEG_LADDER, root / "padded", registry=padded_registry())
    run(JPEG_LADDER, root / "fewer", limit=IMAGES - 100)
    run("jpeg:quality=70|95|100", root / "high")
    return root


def one_line_exit_2(capsys, *argv, match: str) -> str:
    assert main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("compbench: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert re.search(match, err), err
    return err


def overall(comparison, codec, quality="psnr"):
    rows = comparison.overall(quality)
    return rows[rows["codec"] == codec].iloc[0]


def test_two_ladders_of_one_codec_give_the_same_curve(runs):
    comparison = compare_curves(runs / "base", runs / "resampled")
    assert comparison.codecs == ["jpeg", "jpeg2000"] and comparison.only_base == comparison.only_new == ()
    assert comparison.qualities == ["psnr", "ssim"]  # psnr_y, psnr_ycbcr equal psnr on gray; ms_ssim not measured
    assert any("psnr_y left out: equal to psnr" in n for n in comparison.notes)
    assert any(n.startswith("ms_ssim left out: no value") for n in comparison.notes)
    for codec in ("jpeg", "jpeg2000"):
        row = overall(comparison, codec)
        assert abs(row["bd_rate_pct"]) < 1.0, row  # the same codec, resampled
        assert abs(row["bd_quality"]) < 0.05
        assert (row["base_points"], row["new_points"]) == (5, 5)
        assert 0.5 < row["coverage"] <= 1 and row["overlap_low"] < row["overlap_high"]
    classes = comparison.table[(comparison.table["quality"] == "psnr") & (comparison.table["codec"] == "jpeg")]
    assert list(classes["class"]) == [str(c) for c in range(10)] + [ALL]
    assert classes["bd_rate_pct"].abs().max() < 1.0


def test_the_figures_are_the_bjontegaard_packages(runs):
    import bjontegaard as bd
    comparison = compare_curves(runs / "base", runs / "resampled")
    summaries = [pd.read_csv(runs / name / "summary.csv", dtype={"class": str}) for name in ("base", "resampled")]
    for codec in ("jpeg", "jpeg2000"):
        curves = []
        for summary in summaries:
            rows = summary[(summary["codec"] == codec) & (summary["class"] == ALL)].sort_values("bpp_mean")
            curves += [rows["bpp_mean"].to_numpy(), rows["psnr_mean"].to_numpy()]
        row = overall(comparison, codec)
        with warnings.catch_warnings():  # it warns about the overlap, which the table reports
            warnings.simplefilter("ignore")
            theirs = [f(*curves, method="pchip", require_matching_points=False) for f in (bd.bd_rate, bd.bd_psnr)]
        assert row["bd_rate_pct"] == pytest.approx(theirs[0], rel=1e-9, abs=1e-12)
        assert row["bd_quality"] == pytest.approx(theirs[1], rel=1e-9, abs=1e-12)


def test_five_percent_more_bytes_is_five_percent_bd_rate(runs):
    base = pd.read_csv(runs / "base" / "summary.csv", dtype={"class": str})
    padded = pd.read_csv(runs / "padded" / "summary.csv", dtype={"class": str})
    jpeg = base[(base["codec"] == "jpeg") & (base["class"] == ALL)].set_index("setting")
    grown = padded[padded["class"] == ALL].set_index("setting")
    assert np.array_equal(grown["psnr_mean"], jpeg["psnr_mean"])  # the same pixels
    assert (grown["bytes_mean"] / jpeg["bytes_mean"]).between(1.045, 1.055).all()
    comparison = compare_curves(runs / "base", runs / "padded")
    row = overall(comparison, "jpeg")
    assert row["bd_rate_pct"] == pytest.approx(5.0, abs=0.5)
    assert row["bd_quality"] < 0 and row["coverage"] == pytest.approx(1.0)
    assert comparison.only_base == ("jpeg2000",) and comparison.only_new == ()
    assert "only in the base run (not compared): jpeg2000" in curves_text([comparison])


def test_the_gate_fails_a_worse_curve_naming_the_codec_and_its_figure(runs, capsys):
    base, padded = runs / "base", runs / "padded"
    assert main(["compare", str(base), str(padded), "--fail-on-bd-rate", "1", "--codecs", "jpeg"]) == 1
    out = capsys.readouterr().out
    figure = overall(compare_curves(base, padded), "jpeg")["bd_rate_pct"]
    assert f"FAIL: {padded}: jpeg: BD-rate {figure:+.2f}% (psnr) against the baseline, worse than +1%" in out
    assert out.rstrip().endswith("FAIL: BD-rate (psnr) limit +1%: 1 worse, 0 undecided, 0 within")
    assert main(["compare", str(base), str(padded), "--fail-on-bd-rate", "6", "--codecs", "jpeg"]) == 0
    assert main(["compare", str(base), str(padded), "--fail-on-bd-rate", "1", "--only-common"]) == 1
    # the baseline's jpeg2000 is not in the new run: never a pass, never silently skipped
    assert main(["compare", str(base), str(padded), "--fail-on-bd-rate", "1"]) == 2
    assert "jpeg2000: in the baseline but not in" in capsys.readouterr().out


def test_the_gate_passes_a_resampled_curve(runs, capsys):
    assert main(["compare", str(runs / "base"), str(runs / "resampled"), "--fail-on-bd-rate", "1"]) == 0
    assert "PASS: BD-rate (psnr) limit +1%: 0 worse, 0 undecided, 2 within" in capsys.readouterr().out


def test_too_little_overlap_is_undecided_never_a_pass(runs, capsys):
    comparison = compare_curves(runs / "base", runs / "high", codecs=["jpeg"])
    row = overall(comparison, "jpeg")
    assert row["coverage"] < 0.5
    verdict = gate_curves([comparison], 100.0)
    assert verdict.exit_code == 2
    (finding,) = verdict.findings
    assert finding.codec == "jpeg" and f"{100 * row['coverage']:.0f}% of the wider one's range" in finding.line
    assert f"{row['overlap_low']:.4g}..{row['overlap_high']:.4g}" in finding.line
    assert main(["compare", str(runs / "base"), str(runs / "high"), "--fail-on-bd-rate", "100", "--codecs",
                 "jpeg"]) == 2
    assert "UNDECIDED" in capsys.readouterr().out


def test_outputs_markdown_json_plots_and_the_job_summary(runs, tmp_path, capsys, monkeypatch):
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    plots = tmp_path / "plots"
    argv = ["compare", runs / "base", runs / "resampled", runs / "padded", "--curves", "--plot", plots,
            "--markdown", tmp_path / "c.md", "--json", tmp_path / "c.json"]
    assert main([str(a) for a in argv]) == 0
    assert f"plots: 6 in {plots}" in capsys.readouterr().out
    assert {p.name for p in plots.iterdir()} == {f"curves_{c}_{q}.png" for c in ("jpeg", "jpeg2000", "all")
                                                  for q in ("psnr", "ssim")}
    report = json.loads((tmp_path / "c.json").read_text())
    assert [c["new"] for c in report["comparisons"]] == [str(runs / "resampled"), str(runs / "padded")]
    assert report["method"].startswith("Bjontegaard delta with piecewise cubic Hermite")
    rows = report["comparisons"][1]["rows"]
    assert {r["codec"] for r in rows} == {"jpeg"} and len(rows) == 2 * 11
    markdown = (tmp_path / "c.md").read_text()
    assert markdown.count("### BD of ") == 2 and "<details><summary>psnr per class</summary>" in markdown
    assert summary.read_text().startswith(markdown)
    assert main(["compare", str(runs / "base"), str(runs / "resampled"), "--curves", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["comparisons"][0]["new"] == str(runs / "resampled")


def test_runs_over_different_images_are_refused_in_both_modes(runs, capsys):
    base, fewer = runs / "base", runs / "fewer"
    why = rf"ran on different images \(selected images --limit {IMAGES} \({IMAGES} images\) vs --limit 200"
    one_line_exit_2(capsys, "compare", base, fewer, "--codecs", "jpeg", match=why)
    one_line_exit_2(capsys, "compare", base, fewer, "--curves", match=why + r".*--allow-different-images")
    one_line_exit_2(capsys, "compare", base, fewer, "--allow-different-images",
                    match="--allow-different-images applies to --curves only")
    with pytest.raises(CompbenchError, match=why):
        compare_curves(base, fewer)


def test_curves_over_different_images_say_so_on_every_table(runs):
    comparison = compare_curves(runs / "base", runs / "fewer", allow_different_images=True)
    assert comparison.different_images.startswith(f"selected images --limit {IMAGES}")
    assert abs(overall(comparison, "jpeg")["bd_rate_pct"]) < 3  # JPEG on other digits of MNIST
    text, markdown = curves_text([comparison]), curves_markdown([comparison])
    assert text.count("[DIFFERENT IMAGES]") == len(comparison.qualities)
    assert markdown.count("(different images)") == 2 * len(comparison.qualities)
    assert "DIFFERENT IMAGES" in markdown
    assert json.loads(curves_json([comparison]))["comparisons"][0]["different_images"] == comparison.different_images


def test_a_codec_on_one_side_and_an_unknown_codec(runs, capsys):
    comparison = compare_curves(runs / "padded", runs / "base")
    assert comparison.only_new == ("jpeg2000",) and comparison.codecs == ["jpeg"]
    one_line_exit_2(capsys, "compare", runs / "base", runs / "padded", "--curves", "--codecs", "webp",
                    match="codec webp is not in the base")


def test_options_of_the_other_mode_are_refused(runs, capsys):
    base, new = runs / "base", runs / "resampled"
    one_line_exit_2(capsys, "compare", base, new, new, match="compare takes one NEW run .* with --curves")
    one_line_exit_2(capsys, "compare", base, new, "--plot", "x", match="--plot applies to --curves only")
    one_line_exit_2(capsys, "compare", base, new, "--curves", "--tolerance", "psnr=1",
                    match="--tolerance belong.* to the point-wise gate")
    one_line_exit_2(capsys, "compare", base, new, "--fail-on-bd-rate", "x", match="'x' is not a number")


def test_the_gate_from_run_baseline(runs, tmp_path, monkeypatch, capsys):
    import functools

    from compbench import api

    monkeypatch.setattr(api, "run", functools.partial(api.run, registry=padded_registry()))
    argv = ["run", "--codecs", JPEG_LADDER, "--limit", str(IMAGES), "--jobs", "1", "--quiet", "--no-figures",
            "--out", tmp_path / "ci", "--baseline", runs / "base", "--fail-on-bd-rate", "1"]
    assert main([str(a) for a in argv]) == 1
    out = capsys.readouterr().out
    assert "jpeg: BD-rate +5." in out and "worse than +1%" in out
    assert "compared with" not in out.replace("curves compared with", "")  # only the curve gate was asked for
    gate = json.loads((tmp_path / "ci" / "curves.json").read_text())["gate"]
    assert gate["exit_code"] == 1 and math.isclose(gate["findings"][0]["bd_rate_pct"], 5.0, abs_tol=0.5)

"""compbench.analysis.compare: regression tracking between two real results folders."""

import functools
import json
import math
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import compbench
from compbench import api
from compbench.analysis.compare import REGRESSION, compare, exit_code, judge
from compbench.analysis.tolerances import (
    DEFAULT_TOLERANCE,
    Tolerance,
    discover_config,
    load_tolerances,
    parse_tolerance_flag,
)
from compbench.contracts.errors import CompbenchError
from compbench.metrics import HIGHER, LOWER
from compbench.present.comparison import comparison_json, comparison_markdown, comparison_text
from compbench.store.results_folder import open_results

CODECS = "jpeg,jpeg2000"
JPEG, J2K = "jpeg:quality=75", "jpeg2000:psnr=30"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two independent real runs of the same command (deterministic, so they must agree)."""
    root = tmp_path_factory.mktemp("runs")
    for name in ("baseline", "rerun"):
        api.run(CODECS, limit=200, out=root / name, jobs=1 if name == "rerun" else 2)
    return root


@pytest.fixture
def baseline(runs):
    return runs / "baseline"


def edited_copy(source, target, edit_summary=None, edit_manifest=None):
    """A copy of a results folder with its summary.csv and/or manifest.json changed."""
    shutil.copytree(source, target)
    if edit_summary:
        summary = pd.read_csv(target / "summary.csv", dtype={"class": str})
        edited = edit_summary(summary)  # edits in place, or returns a new frame
        summary = summary if edited is None else edited
        summary.to_csv(target / "summary.csv", index=False)
    if edit_manifest:
        manifest = json.loads((target / "manifest.json").read_text())
        edit_manifest(manifest)
        (target / "manifest.json").write_text(json.dumps(manifest))
    return target


def row(summary, setting, class_name):
    return (summary["setting"] == setting) & (summary["class"] == class_name)


def moved(rows):
    return {(r["setting"], r["class"], r["metric"]) for _, r in rows.iterrows()}


def test_an_identical_rerun_passes_with_everything_unchanged(runs):
    result = compare(runs / "baseline", runs / "rerun")
    assert exit_code(result) == 0
    assert result.regressions.empty and result.improvements.empty and result.changed.empty
    assert len(result.unchanged) == len(result.table) > 0
    assert result.warnings == []
    assert set(result.table["metric"]) >= {"bpp", "psnr", "ssim", "bytes", "mse", "errors", "bpp_pooled"}
    assert not {"encode_s", "decode_s"} & set(result.table["metric"])
    assert result.summary_line().startswith("PASS: 0 regression(s)")


def test_a_worse_run_fails_and_names_the_rows(baseline, tmp_path):
    def worsen(summary):
        summary.loc[row(summary, JPEG, "3"), "psnr_mean"] -= 0.2
        summary.loc[row(summary, J2K, "all"), "bpp_mean"] *= 1.01

    result = compare(baseline, edited_copy(baseline, tmp_path / "worse", worsen))
    assert exit_code(result) == 1
    assert moved(result.regressions) == {(JPEG, "3", "psnr"), (J2K, "all", "bpp")}
    markdown = comparison_markdown(result)
    assert markdown.startswith("**compbench compare: FAIL: 2 regression(s)")
    assert "### Regressions" in markdown and "### Improvements" not in markdown
    assert re.search(rf"\| {re.escape(JPEG)} +\| 3 +\| psnr +\| 33.\d+ +\| 33.\d+ +\| -0.2 ", markdown)
    assert f"{len(result.unchanged)} metric value(s) unchanged." in markdown
    terminal = comparison_text(result)
    assert J2K in terminal and "-0.2 (" in terminal and terminal.splitlines()[-1].startswith("FAIL")


def test_an_improvement_passes_and_is_reported(baseline, tmp_path):
    def improve(summary):
        summary.loc[row(summary, JPEG, "all"), "psnr_mean"] += 0.3
        summary.loc[row(summary, JPEG, "all"), "bytes_mean"] -= 5

    result = compare(baseline, edited_copy(baseline, tmp_path / "better", improve))
    assert exit_code(result) == 0
    assert moved(result.improvements) == {(JPEG, "all", "psnr"), (JPEG, "all", "bytes")}
    markdown = comparison_markdown(result)
    assert "PASS: 0 regression(s), 2 improvement(s)" in markdown
    assert markdown.index("### Improvements") < markdown.index("metric value(s) unchanged")


def test_changes_within_tolerance_pass(baseline, tmp_path):
    def nudge(summary):
        summary.loc[row(summary, JPEG, "all"), "psnr_mean"] -= 0.03
        summary.loc[row(summary, J2K, "5"), "bpp_mean"] *= 1.005

    new = edited_copy(baseline, tmp_path / "nudged", nudge)
    assert exit_code(compare(baseline, new)) == 1  # the defaults allow float noise only
    loose = compare(baseline, new, tolerances={"psnr": {"abs": 0.05}, "bpp": "1%"})
    assert exit_code(loose) == 0 and loose.regressions.empty
    assert set(loose.table.loc[loose.table["metric"] == "psnr", "tolerance"]) == {"±0.05"}
    tight = compare(baseline, new, tolerances=dict([parse_tolerance_flag("psnr=0.01"),
                                                    parse_tolerance_flag("bpp=1%")]))
    assert moved(tight.regressions) == {(JPEG, "all", "psnr")}


def test_timings_are_ignored_unless_asked_for(baseline, tmp_path):
    def slow_down(summary):
        summary["encode_s_mean"] *= 10

    new = edited_copy(baseline, tmp_path / "slow", slow_down)
    assert exit_code(compare(baseline, new)) == 0
    timed = compare(baseline, new, include_timings=True)
    assert exit_code(timed) == 1
    assert set(timed.regressions["metric"]) == {"encode_s"}
    assert "decode_s" in set(timed.unchanged["metric"])
    shown = compare(baseline, new, metrics=["psnr", "encode_s"])  # named but not included: shown only
    assert exit_code(shown) == 0 and set(shown.changed["metric"]) == {"encode_s"}


def test_informational_metrics_are_shown_but_gate_only_when_named(baseline, tmp_path):
    def shift(summary):
        summary.loc[row(summary, JPEG, "all"), "entropy_mean"] += 0.1

    new = edited_copy(baseline, tmp_path / "entropy", shift)
    result = compare(baseline, new)
    assert exit_code(result) == 0 and moved(result.changed) == {(JPEG, "all", "entropy")}
    assert "### Changed, not gated" in comparison_markdown(result)
    pinned = compare(baseline, new, metrics=["entropy", "psnr"])
    assert exit_code(pinned) == 1 and moved(pinned.regressions) == {(JPEG, "all", "entropy")}
    assert set(pinned.table["metric"]) == {"entropy", "psnr"}


def test_lossless_psnr(baseline, tmp_path):
    def lossless(summary):
        summary.loc[row(summary, JPEG, "all"), "psnr_mean"] = math.inf

    lossless_run = edited_copy(baseline, tmp_path / "lossless", lossless)
    same = compare(lossless_run, lossless_run)
    assert exit_code(same) == 0 and same.regressions.empty
    lost = compare(lossless_run, baseline)
    assert moved(lost.regressions) == {(JPEG, "all", "psnr")}
    assert "lossless" in comparison_text(lost)
    report = json.loads(comparison_json(lost))
    assert report["passed"] is False and report["counts"]["regression"] == 1
    assert report["rows"][0]["baseline"] == "inf" and report["rows"][0]["delta"] == "-inf"


def test_judge_directions_and_edge_values():
    exact = DEFAULT_TOLERANCE
    assert judge(math.inf, math.inf, HIGHER, exact, True) == "unchanged"
    assert judge(math.inf, 60.0, HIGHER, Tolerance(absolute=1e9), True) == REGRESSION
    assert judge(30.0, 30.0 + 1e-13, HIGHER, exact, True) == "unchanged"  # float noise
    assert judge(2.0, 2.1, LOWER, exact, True) == REGRESSION
    assert judge(2.0, 1.9, LOWER, exact, True) == "improvement"
    assert judge(0.9, math.nan, HIGHER, exact, True) == REGRESSION  # every image failed
    assert judge(math.nan, math.nan, HIGHER, exact, True) == "unchanged"
    assert judge(2.0, 2.1, LOWER, exact, False) == "changed"
    assert judge(100.0, 101.0, LOWER, Tolerance(relative=0.01), True) == "unchanged"
    assert judge(100.0, 101.5, LOWER, Tolerance(absolute=1.0, relative=0.01), True) == REGRESSION


def test_a_summary_csv_path_works_too(runs):
    assert exit_code(compare(runs / "baseline" / "summary.csv", runs / "rerun" / "summary.csv")) == 0


def test_version_differences_warn_without_failing(baseline, tmp_path):
    def upgrade(manifest):
        manifest["compbench"] = "9.0.0"
        manifest["libraries"]["numpy"] = "99.0"
        manifest["codec_libraries"]["jpeg"]["libjpeg"] = "libjpeg_turbo 9.9"
        manifest["plugins"] = ["compbench==9.0.0", "compbench-extra==1.0"]

    result = compare(baseline, edited_copy(baseline, tmp_path / "upgraded", edit_manifest=upgrade))
    assert exit_code(result) == 0
    text = "\n".join(result.warnings)
    assert f"compbench versions differ (baseline -> new): compbench {compbench.__version__} -> 9.0.0" in text
    assert "numpy" in text and "99.0" in text
    assert "jpeg libjpeg" in text and "compbench-extra absent -> 1.0" in text
    assert "### Warnings" in comparison_markdown(result) and "warning: compbench versions" in comparison_text(result)


def one_line_error(baseline, new, match):
    with pytest.raises(CompbenchError, match=match) as caught:
        compare(baseline, new)
    assert "\n" not in str(caught.value)


def test_different_dataset_split_or_images_are_refused(baseline, tmp_path):
    def to_train(summary):
        summary["split"] = "train"

    one_line_error(baseline, edited_copy(baseline, tmp_path / "train", to_train),
                   r"ran on different images \(dataset/split mnist/test vs mnist/train\)")

    def other_split(manifest):
        manifest["config"]["split"] = "train"
        manifest["dataset_checksums"] = {"train-images-idx3-ubyte": "f6"}

    one_line_error(baseline, edited_copy(baseline, tmp_path / "split", edit_manifest=other_split),
                   r"\(split test vs train; image checksums \(3 of 3 files differ: t10k-images-idx3-ubyte, "
                   r"t10k-labels-idx1-ubyte, train-images-idx3-ubyte\)\): compare runs of the same dataset")

    def fashion(manifest):
        manifest["config"].update(dataset="fashion-mnist", dataset_settings={"x": "1"})

    one_line_error(baseline, edited_copy(baseline, tmp_path / "fashion", edit_manifest=fashion),
                   r"ran on different images \(dataset mnist vs fashion-mnist\)")

    def per_class(manifest):
        manifest["run"].update(limit=None, per_class=20)
        manifest["images_digest"] = "0" * 64

    one_line_error(baseline, edited_copy(baseline, tmp_path / "per-class", edit_manifest=per_class),
                   r"\(selected images --limit 200 \(200 images\) vs --per-class 20 \(200 images\)\)")


def test_the_selected_images_are_compared_by_their_ids(baseline, tmp_path):
    """Two selections that pick the same images are the same (a --limit past the end and none);
    a manifest without ids (written before runs recorded them) is compared on its options."""
    def unlimited(manifest):
        manifest["run"]["limit"] = None

    assert exit_code(compare(baseline, edited_copy(baseline, tmp_path / "same", edit_manifest=unlimited))) == 0

    def old(manifest):
        del manifest["images_digest"]
        manifest["run"]["limit"] = None

    one_line_error(baseline, edited_copy(baseline, tmp_path / "old", edit_manifest=old),
                   r"selected images --limit 200 \(200 images\) vs all \(200 images\)")


def test_rows_missing_from_the_new_run_are_named(baseline, tmp_path):
    def drop(summary):
        return summary[summary["setting"] != J2K]

    def unlist(manifest):  # a run of fewer codecs: its manifest does not list the missing one
        del manifest["codecs"][J2K]

    one_line_error(baseline, edited_copy(baseline, tmp_path / "missing", drop, unlist),
                   rf"the new run lacks 11 baseline row\(s\): {J2K} \(classes 0, 1, 2, .*all\); .* --only-common")
    # gated on the settings both have, or on the codecs named: what is left out is said
    common = compare(baseline, tmp_path / "missing", only_common=True)
    assert exit_code(common) == 0 and set(common.table["setting"]) == {JPEG}
    assert any(w.startswith(f"left out 1 setting(s) only the baseline has: {J2K}") for w in common.warnings)
    named = compare(baseline, tmp_path / "missing", codecs=["jpeg"])
    assert exit_code(named) == 0 and set(named.table["setting"]) == {JPEG}
    assert "compared only jpeg; left out: baseline jpeg2000" in named.warnings
    with pytest.raises(CompbenchError, match=r"codec jpeg2000 is not in the new run \(its codecs: jpeg\)"):
        compare(baseline, tmp_path / "missing", codecs=["jpeg", "jpeg2000"])
    # the other way round it is only a warning: new rows are not compared
    extra = compare(tmp_path / "missing", baseline)
    assert exit_code(extra) == 0 and any("rows the baseline lacks" in w and J2K in w for w in extra.warnings)


def test_missing_or_broken_files_are_refused(baseline, tmp_path):
    one_line_error(baseline, tmp_path / "nowhere", r"nowhere: no such results folder or summary.csv")
    (tmp_path / "empty").mkdir()
    one_line_error(baseline, tmp_path / "empty", r"empty has no summary.csv")
    broken = tmp_path / "broken.csv"
    broken.write_text("this is not,a summary\n1,2\n")
    one_line_error(baseline, broken, r"broken.csv is not a compbench summary: no column codec")
    (tmp_path / "empty.csv").write_text("")
    one_line_error(baseline, tmp_path / "empty.csv", r"empty.csv does not parse as a summary CSV")
    with pytest.raises(CompbenchError, match="no metric 'vmaf' in both runs"):
        compare(baseline, baseline, metrics=["vmaf"])


def test_tolerance_flags():
    assert parse_tolerance_flag("psnr=0.05") == ("psnr", Tolerance(absolute=0.05))
    assert parse_tolerance_flag("bpp=1%") == ("bpp", Tolerance(relative=0.01))
    assert str(Tolerance(absolute=0.05, relative=0.01)) == "±0.05 or 1%"
    for bad in ("psnr", "psnr=", "psnr=-1", "psnr=abc", "=0.1", "psnr=nan"):
        with pytest.raises(CompbenchError, match="expected METRIC=NUMBER"):
            parse_tolerance_flag(bad)


def test_tolerances_from_pyproject_and_compbench_toml(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.compbench.compare.tolerances]\n'
        'psnr = { abs = 0.05 }\nbpp = { rel = 0.01 }\nssim = 0.0005\nmse = "2%"\n')
    assert load_tolerances(tmp_path / "pyproject.toml") == {
        "psnr": Tolerance(absolute=0.05), "bpp": Tolerance(relative=0.01),
        "ssim": Tolerance(absolute=0.0005), "mse": Tolerance(relative=0.02)}
    nested = tmp_path / "sub" / "dir"
    nested.mkdir(parents=True)
    assert discover_config(nested) == tmp_path / "pyproject.toml"
    (tmp_path / "sub" / "compbench.toml").write_text('[compare.tolerances]\npsnr = { abs = 0.1, rel = 0.001 }\n')
    assert discover_config(nested) == tmp_path / "sub" / "compbench.toml"
    assert load_tolerances(tmp_path / "sub" / "compbench.toml") == {"psnr": Tolerance(0.1, 0.001)}


def test_bad_tolerance_configs_are_refused(tmp_path):
    config = tmp_path / "compbench.toml"
    with pytest.raises(CompbenchError, match="not found"):
        load_tolerances(config)
    config.write_text("[compare.tolerances\n")
    with pytest.raises(CompbenchError, match="is not valid TOML"):
        load_tolerances(config)
    config.write_text("[tolerances]\npsnr = 0.1\n")
    with pytest.raises(CompbenchError, match=r"has no \[compare.tolerances\] table"):
        load_tolerances(config)
    config.write_text("[compare.tolerances]\npsnr = { absolute = 0.1 }\n")
    with pytest.raises(CompbenchError, match="unknown key absolute"):
        load_tolerances(config)


def test_load_run_keeps_class_labels_as_text(baseline):
    summary = open_results(baseline).summary
    assert list(dict.fromkeys(summary["class"])) == [str(c) for c in range(10)] + ["all"]


def test_damaged_summaries_are_refused_not_judged(baseline, tmp_path):
    """A summary cut short, or missing rows its manifest lists, is a damaged file (exit 2), never
    a regression and never a pass."""
    cut = tmp_path / "cut"
    shutil.copytree(baseline, cut)
    text = (cut / "summary.csv").read_text()
    (cut / "summary.csv").write_text(text[: len(text) - 40])
    one_line_error(baseline, cut, r"cut/summary.csv is damaged: its last row is cut short")
    short = tmp_path / "short"
    shutil.copytree(baseline, short)
    lines = (short / "summary.csv").read_text().splitlines(keepends=True)
    (short / "summary.csv").write_text("".join(lines[:-1]) + ",".join(lines[-1].split(",")[:5]) + "\n")
    one_line_error(baseline, short, r"short/summary.csv is damaged: row \d+ has a different number of fields")
    lost = edited_copy(baseline, tmp_path / "lost", lambda s: s[s["setting"] != J2K])
    one_line_error(baseline, lost, rf"lost is damaged or incomplete: its manifest lists {J2K}")


def test_a_gated_metric_missing_from_either_side_is_an_error(baseline, tmp_path):
    no_ssim = edited_copy(baseline, tmp_path / "no-ssim", lambda s: s.drop(columns=["ssim_mean", "ssim_std"]))
    one_line_error(baseline, no_ssim, r"gated metric\(s\) ssim are in the baseline but not the new run")
    one_line_error(no_ssim, baseline, r"gated metric\(s\) ssim are in the new run but not the baseline")


README = Path(__file__).parents[1] / "README.md"
BASELINE = Path(__file__).parents[1] / "results" / "baselines" / "mnist-test-1k"


def readme_gate_example() -> list[str]:
    """The README's `run ... --baseline ... --fail-on-regression` line, as its arguments."""
    (line,) = [line for line in README.read_text().splitlines()
               if line.startswith("compbench run ") and "--baseline results/baselines/" in line]
    return shlex.split(line.split("#")[0])[1:]


def test_the_readme_gate_example_passes_and_fails_when_jpeg_grows(tmp_path, monkeypatch, capsys):
    """The baseline holds six codecs; the example runs jpeg alone: --codecs gates what it ran."""
    from curve_runs import padded_registry

    from compbench.cli import main

    argv = readme_gate_example()
    assert argv[:2] == ["run", "--codecs"] and "--fail-on-regression" in argv
    shutil.copytree(BASELINE, tmp_path / "results" / "baselines" / BASELINE.name)
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0
    assert "PASS: 0 regression(s)" in capsys.readouterr().out
    monkeypatch.setattr(api, "run", functools.partial(api.run, registry=padded_registry()))
    assert main(argv) == 1
    out = capsys.readouterr().out
    assert "FAIL:" in out and re.search(r"jpeg:quality=75\s+all\s+bpp\s.*regression", out)
    # without naming the codecs, the baseline's other five are missing: a mismatch, not a pass
    (unchanged, _) = sorted((tmp_path / "results").glob("*-jpeg*"))
    with pytest.raises(CompbenchError, match=r"the new run lacks 55 baseline row\(s\): ddcae:step=0.7"):
        compare(BASELINE, unchanged)
    assert exit_code(compare(BASELINE, unchanged, only_common=True)) == 0


def png_folder(folder, noisy: bool):
    """Four 28x28 gray PNGs with fixed names: noise, or flat gray."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        pixels = rng.integers(0, 256, (28, 28)) if noisy else np.full((28, 28), 40 * i + 20)
        Image.fromarray(pixels.astype(np.uint8)).save(folder / f"img{i}.png")
    return folder


def test_runs_over_changed_or_other_images_are_refused(tmp_path, baseline):
    """The same file names with other pixels, another folder, another dataset: exit 2 naming what
    differs, in both modes (the checksums used to be only a warning)."""
    from compbench.analysis.curves import compare_curves

    def folder_run(folder, out):
        return api.run("jpeg:quality=30|70", dataset=f"folder:path={folder}", out=tmp_path / out, jobs=1,
                       figures=False).out_dir

    images = png_folder(tmp_path / "images", noisy=True)
    noisy = folder_run(images, "noisy")
    png_folder(images, noisy=False)
    changed = folder_run(images, "changed")
    match = r"ran on different images \(image checksums \(4 of 4 files differ: img0.png, img1.png, img2.png and 1 more\)\)"
    one_line_error(noisy, changed, match)
    with pytest.raises(CompbenchError, match=match):
        compare_curves(noisy, changed)
    elsewhere = folder_run(png_folder(tmp_path / "flat", noisy=False), "elsewhere")
    one_line_error(noisy, elsewhere, rf"\(dataset parameters path={images} vs path={tmp_path / 'flat'}; image checksums")
    one_line_error(baseline, noisy, r"\(dataset mnist vs folder\)")
    assert compare_curves(changed, noisy, allow_different_images=True).different_images.startswith("image checksums")

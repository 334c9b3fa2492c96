"""An outside metric plugin, installed as its own distribution (tests/thirdparty/compbench_mae,
mean absolute error), shows up end to end through the CLI with no other change: records,
summary, terminal table, report, an RD plot axis and the compare gate (which reads the
declaration from the manifest, so it gates even where the plugin is not installed)."""

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import install_as_distribution, run_cli

from compbench.contracts.registry import build_registry
from compbench.run.spec import make_spec

MAE = Path(__file__).parent / "thirdparty" / "compbench_mae"
CODECS = "jpeg:quality=20|80"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    site = install_as_distribution(MAE, tmp_path_factory.mktemp("mae-site"))
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}


@pytest.fixture(scope="module")
def run(plugin_env, tmp_path_factory):
    out = tmp_path_factory.mktemp("mae") / "run"
    done = run_cli("run", "--codecs", CODECS, "--per-class", "2", "--jobs", "2", "--out", out, "--quiet",
                   "--rd-metrics", "psnr,mae", env=plugin_env)
    assert done.returncode == 0, done.stderr
    return out, done.stdout


def test_records_hold_the_plugin_metric_as_defined(run, registry, mnist_test):
    out, _ = run
    records = pd.read_csv(out / "records.csv", dtype={"class": str})
    assert list(records.columns[-3:]) == ["mae", "metric_error", "error"]
    for quality in (20, 80):
        rows = records[records["setting"] == f"jpeg:quality={quality}"]
        factory = registry.codec("jpeg")
        codec = factory.create(**make_spec(factory, {"quality": quality}).kwargs)
        originals = mnist_test.images[rows["index"].to_numpy()]
        decoded = np.stack([codec.decode(codec.encode(image)) for image in originals])
        want = np.abs(originals.astype(float) - decoded.astype(float)).mean(axis=(1, 2))
        np.testing.assert_allclose(rows["mae"], want, rtol=1e-12)


def test_summary_terminal_table_manifest_and_plot(run):
    out, stdout = run
    summary = pd.read_csv(out / "summary.csv", dtype={"class": str})
    overall = summary[summary["class"] == "all"].set_index("setting")
    assert overall.loc["jpeg:quality=80", "mae_mean"] < overall.loc["jpeg:quality=20", "mae_mean"]
    assert summary["mae_std"].notna().all()
    header = next(line for line in stdout.splitlines() if line.startswith("class"))
    assert header.count("MAE (grey levels)") == 2  # one column per setting, by its declared label and unit
    all_row = next(line for line in stdout.splitlines() if line.startswith("all"))
    assert f"{overall.loc['jpeg:quality=20', 'mae_mean']:.4f}" in all_row  # its declared format
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["metrics"]["mae"]["better"] == "lower" and manifest["metrics"]["mae"]["gated"]
    assert "compbench-mae==0.3.0" in manifest["plugins"]
    assert (out / "rd_mae_bpp.png").stat().st_size > 0 and (out / "rd_psnr_bpp.png").exists()
    assert not (out / "rd_ssim_bpp.png").exists()  # the run asked for psnr and mae


def test_report_shows_and_defines_it(run):
    out, _ = run
    page = (out / "report.html").read_text()
    assert '>MAE<span class="unit">grey levels</span></th>' in page  # the overall table: declared label, unit
    assert "<th>mae</th><td>MAE (grey levels)</td><td>grey levels</td><td>lower</td><td>yes</td>" in page
    assert "mean |x - y| over all samples" in page
    assert "Rate-distortion: mae vs bpp" in page


def test_compare_gates_it_without_the_plugin(run, tmp_path):
    out, _ = run
    assert "mae" not in build_registry().metrics  # this process: the plugin is not installed
    worse = tmp_path / "worse"
    shutil.copytree(out, worse)
    summary = pd.read_csv(worse / "summary.csv", dtype={"class": str})
    summary["mae_mean"] += 0.5  # lower is better: worse
    summary.to_csv(worse / "summary.csv", index=False)
    same = run_cli("compare", out, out)
    assert same.returncode == 0, same.stdout + same.stderr
    failed = run_cli("compare", out, worse)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    moved = [line for line in failed.stdout.splitlines() if "regression" in line and " mae " in line]
    assert len(moved) == len(summary)
    assert "FAIL: " + str(len(summary)) + " regression(s)" in failed.stdout

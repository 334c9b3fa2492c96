"""The command line as a user meets it: errors are one line with exit code 2, runs write files."""

import json
import os
import stat

import pandas as pd
import pytest


@pytest.mark.parametrize("args,fragment", [
    (["run", "--codecs", "nosuch"], "unknown codec 'nosuch'; valid: "),
    (["run", "--codecs", "jpeg:qualty=5"], "unknown parameter 'qualty'; did you mean 'quality'? valid: quality=1..100"),
    (["run", "--codecs", "jpeg:quality=0"], "quality=0 is out of range; valid: quality=1..100"),
    (["run", "--codecs", "jpeg", "--dataset", "cifar"], "unknown dataset 'cifar'; valid: "),
    (["run", "--codecs", "jpeg", "--split", "val"], "no split 'val'; valid: train, test"),
    (["run", "--codecs", "jpeg", "--limit", "0"], "must be at least 1"),
    (["run", "--codecs", "jpeg", "--limt", "5"], "unrecognized arguments: --limt"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["train", "nosuch"], "unknown trainer 'nosuch'"),
])
def test_user_errors_are_one_line_exit_2(cli, args, fragment):
    done = cli(*args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("compbench: error: ")


def test_unwritable_output_folder(cli, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(locked, os.W_OK):  # root ignores permission bits: use a path under a file
        target = tmp_path / "a-file" / "results"
        (tmp_path / "a-file").write_text("")
    else:
        target = locked / "results"
    done = cli("run", "--codecs", "jpeg", "--limit", "5", "--out", target)
    assert done.returncode == 2
    assert f"cannot write results to {target}" in done.stderr and "--out" in done.stderr


def test_run_writes_the_results_folder(cli, tmp_path):
    out = tmp_path / "res"
    done = cli("run", "--codecs", "jpeg:quality=50,jpeg2000:psnr=30", "--per-class", "3", "--out", out)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} >= {"records.csv", "summary.csv", "summary.md", "manifest.json"}
    # the terminal table: classes 0-9 and "all", each codec's metrics
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines[3:14]] == [*"0123456789", "all"]
    for header in ("jpeg:quality=50", "jpeg2000:psnr=30", "bpp", "psnr", "snr_db", "ssim", "entropy", "snr_paper"):
        assert header in done.stdout
    records = pd.read_csv(out / "records.csv", keep_default_na=False)
    assert len(records) == 2 * 30
    assert set(records["setting"]) == {"jpeg:quality=50", "jpeg2000:psnr=30"}
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 * 11
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"] == {"dataset": "mnist", "split": "test", "images": 30, "limit": None,
                               "per_class": 3, "jobs": manifest["run"]["jobs"], "timeout": 60.0}
    assert manifest["dataset_checksums"]["t10k-images-idx3-ubyte"] == "2646ac647ad5339dbf082846283269ea"
    assert "libjpeg" in manifest["codec_libraries"]["jpeg"]
    assert "openjpeg" in manifest["codec_libraries"]["jpeg2000"]
    assert "--per-class" in manifest["command"]


def test_list_shows_params_ranges_and_availability(cli):
    done = cli("list")
    assert done.returncode == 0
    assert "quality=75 [1..100]" in done.stdout
    assert "psnr=30.0 [1..100]" in done.stdout
    listing = json.loads(cli("list", "--json").stdout)
    names = {c["name"]: c for c in listing["codecs"]}
    assert names["jpeg"]["available"] is True and names["jpeg"]["distribution"] == "compbench"
    assert listing["datasets"][0]["splits"] == ["train", "test"]


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory):
    from conftest import run_cli

    out = tmp_path_factory.mktemp("stored") / "base"
    done = run_cli("run", "--codecs", "jpeg,jpeg2000", "--limit", "100", "--out", out, "--quiet", "--no-figures")
    assert done.returncode == 0, done.stderr
    return out


def test_gate_passes_an_identical_run_and_fails_a_worse_one(cli, stored_run, tmp_path):
    same = cli("run", "--codecs", "jpeg,jpeg2000", "--limit", "100", "--out", tmp_path / "same", "--quiet",
               "--no-figures", "--baseline", stored_run, "--fail-on-regression")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "PASS: 0 regression(s)" in same.stdout
    assert (tmp_path / "same" / "comparison.md").exists() and (tmp_path / "same" / "comparison.json").exists()

    worse = cli("run", "--codecs", "jpeg:quality=60,jpeg2000", "--limit", "100", "--out", tmp_path / "worse",
                "--quiet", "--no-figures", "--baseline", stored_run, "--fail-on-regression")
    # a different setting label is a missing row: bad input, not a regression
    assert worse.returncode == 2 and "jpeg:quality=75" in worse.stderr


def test_compare_exit_codes(cli, stored_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(stored_run, copy)
    summary = pd.read_csv(copy / "summary.csv", keep_default_na=False, dtype={"class": str})
    row = (summary["setting"] == "jpeg2000:psnr=30") & (summary["class"] == "3")
    summary.loc[row, "psnr_mean"] -= 0.5
    summary.to_csv(copy / "summary.csv", index=False)
    worse = cli("compare", stored_run, copy)
    assert worse.returncode == 1
    assert "jpeg2000:psnr=30" in worse.stdout and "regression" in worse.stdout
    better = cli("compare", copy, stored_run)
    assert better.returncode == 0 and "improvement" in better.stdout
    assert cli("compare", stored_run, tmp_path / "nowhere").returncode == 2


def test_gate_metrics_are_named_with_a_suggestion_and_the_old_name_works(cli, stored_run, tmp_path):
    written = ("--json", tmp_path / "c.json", "--markdown", tmp_path / "c.md")  # not into the shared run
    wrong = cli("compare", stored_run, stored_run, "--gate-metrics", "psnrr", *written)
    assert wrong.returncode == 2
    assert "no metric 'psnrr' in both runs; did you mean 'psnr'? metrics: " in wrong.stderr
    old = cli("compare", stored_run, stored_run, "--metrics", "psnr", *written)
    assert old.returncode == 0, old.stderr
    rows = len(pd.read_csv(stored_run / "summary.csv"))
    assert sum(json.loads((tmp_path / "c.json").read_text())["counts"].values()) == rows  # psnr only


def test_fail_on_regression_needs_a_baseline(cli):
    done = cli("run", "--codecs", "jpeg", "--limit", "5", "--fail-on-regression")
    assert done.returncode == 2 and "--baseline" in done.stderr


def test_latex_tables_and_report(cli, tmp_path):
    out = tmp_path / "tex"
    done = cli("run", "--codecs", "jpeg:quality=20|80,jpeg2000:psnr=25|35", "--per-class", "2",
               "--out", out, "--quiet", "--table-format", "latex")
    assert done.returncode == 0, done.stderr
    assert "\\begin{tabular}" in done.stdout and "\\begin{tabular}" in (out / "summary.tex").read_text()
    assert (out / "bdrate.csv").exists() and "BD metrics against jpeg2000" in done.stdout
    (out / "report.html").unlink()
    assert cli("report", out).returncode == 0 and (out / "report.html").exists()
    assert cli("run", "--codecs", "jpeg", "--limit", "5", "--table-format", "nope").returncode == 2


def test_history_table_and_plot(cli, stored_run, tmp_path):
    done = cli("history", stored_run, stored_run, "--metric", "bpp", "--plot", tmp_path / "h.png")
    assert done.returncode == 0, done.stderr
    assert "jpeg:quality=75" in done.stdout and (tmp_path / "h.png").exists()

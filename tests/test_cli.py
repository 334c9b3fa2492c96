"""The command line as a user meets it: errors are one line with exit code 2, runs write files.

compbench.cli.main runs in this process (cli_main); two tests run the installed command in a
fresh process to prove the wiring: an error, and a run writing its folder."""

import json
import os
import stat

import pandas as pd
import pytest

from compbench.run.machine import usable_cores


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
def test_user_errors_are_one_line_exit_2(cli_main, args, fragment):
    done = cli_main(*args)
    assert done.returncode == 2
    assert fragment in done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("compbench: error: ") and done.stdout == ""


def test_a_user_error_through_the_console_script(cli, tmp_path):
    """The wiring the in-process tests above rely on: the installed command exits 2 with one
    line on stderr, no traceback, and starts nothing."""
    done = cli("run", "--codecs", "jpeg:quality=0", "--out", tmp_path / "never")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == "compbench: error: jpeg: quality=0 is out of range; valid: quality=1..100\n"
    assert not (tmp_path / "never").exists()


def test_unwritable_output_folder(cli_main, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    if os.access(locked, os.W_OK):  # root ignores permission bits: use a path under a file
        target = tmp_path / "a-file" / "results"
        (tmp_path / "a-file").write_text("")
    else:
        target = locked / "results"
    done = cli_main("run", "--codecs", "jpeg", "--limit", "5", "--out", target)
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
    # each metric's heading from its declaration (compbench.present.labels)
    for header in ("jpeg:quality=50", "jpeg2000:psnr=30", "bpp (bits/pixel)", "PSNR (dB)", "SNR (dB)", "SSIM",
                   "entropy (bits)", "paper SNR"):
        assert header in done.stdout
    records = pd.read_csv(out / "records.csv", keep_default_na=False)
    assert len(records) == 2 * 30
    assert set(records["setting"]) == {"jpeg:quality=50", "jpeg2000:psnr=30"}
    summary = pd.read_csv(out / "summary.csv")
    assert len(summary) == 2 * 11
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run"] == {"dataset": "mnist", "split": "test", "images": 30, "limit": None,
                               "per_class": 3, "jobs": manifest["run"]["jobs"], "cores": usable_cores(),
                               "timeout": 60.0}
    assert manifest["dataset_checksums"]["t10k-images-idx3-ubyte"] == "2646ac647ad5339dbf082846283269ea"
    assert "libjpeg" in manifest["codec_libraries"]["jpeg"]
    assert "openjpeg" in manifest["codec_libraries"]["jpeg2000"]
    assert "--per-class" in manifest["command"]


def test_list_shows_params_ranges_and_availability(cli_main):
    done = cli_main("list")
    assert done.returncode == 0
    assert "quality=75 [1..100]" in done.stdout
    assert "psnr=30.0 [1..100]" in done.stdout
    listing = json.loads(cli_main("list", "--json").stdout)
    names = {c["name"]: c for c in listing["codecs"]}
    assert names["jpeg"]["available"] is True and names["jpeg"]["distribution"] == "compbench"
    assert listing["datasets"][0]["splits"] == ["train", "test"]


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory):
    from compbench.cli import main

    out = tmp_path_factory.mktemp("stored") / "base"
    assert main(["run", "--codecs", "jpeg,jpeg2000", "--limit", "100", "--out", str(out), "--quiet",
                 "--no-figures"]) == 0
    return out


def test_gate_passes_an_identical_run_and_fails_a_worse_one(cli_main, stored_run, tmp_path):
    same = cli_main("run", "--codecs", "jpeg,jpeg2000", "--limit", "100", "--out", tmp_path / "same", "--quiet",
               "--no-figures", "--baseline", stored_run, "--fail-on-regression")
    assert same.returncode == 0, same.stdout + same.stderr
    assert "PASS: 0 regression(s)" in same.stdout
    assert (tmp_path / "same" / "comparison.md").exists() and (tmp_path / "same" / "comparison.json").exists()

    worse = cli_main("run", "--codecs", "jpeg:quality=60,jpeg2000", "--limit", "100", "--out", tmp_path / "worse",
                "--quiet", "--no-figures", "--baseline", stored_run, "--fail-on-regression")
    # a different setting label is a missing row: bad input, not a regression
    assert worse.returncode == 2 and "jpeg:quality=75" in worse.stderr


def test_compare_exit_codes(cli_main, stored_run, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(stored_run, copy)
    summary = pd.read_csv(copy / "summary.csv", keep_default_na=False, dtype={"class": str})
    row = (summary["setting"] == "jpeg2000:psnr=30") & (summary["class"] == "3")
    summary.loc[row, "psnr_mean"] -= 0.5
    summary.to_csv(copy / "summary.csv", index=False)
    worse = cli_main("compare", stored_run, copy)
    assert worse.returncode == 1
    assert "jpeg2000:psnr=30" in worse.stdout and "regression" in worse.stdout
    better = cli_main("compare", copy, stored_run)
    assert better.returncode == 0 and "improvement" in better.stdout
    assert cli_main("compare", stored_run, tmp_path / "nowhere").returncode == 2


def test_gate_metrics_are_named_with_a_suggestion_and_the_old_name_works(cli_main, stored_run, tmp_path):
    written = ("--json", tmp_path / "c.json", "--markdown", tmp_path / "c.md")  # not into the shared run
    wrong = cli_main("compare", stored_run, stored_run, "--gate-metrics", "psnrr", *written)
    assert wrong.returncode == 2
    assert "no metric 'psnrr' in both runs; did you mean 'psnr'? metrics: " in wrong.stderr
    old = cli_main("compare", stored_run, stored_run, "--metrics", "psnr", *written)
    assert old.returncode == 0, old.stderr
    rows = len(pd.read_csv(stored_run / "summary.csv"))
    assert sum(json.loads((tmp_path / "c.json").read_text())["counts"].values()) == rows  # psnr only


def test_fail_on_regression_needs_a_baseline(cli_main):
    done = cli_main("run", "--codecs", "jpeg", "--limit", "5", "--fail-on-regression")
    assert done.returncode == 2 and "--baseline" in done.stderr


def test_latex_tables_and_report(cli_main, tmp_path):
    out = tmp_path / "tex"
    done = cli_main("run", "--codecs", "jpeg:quality=20|80,jpeg2000:psnr=25|35", "--per-class", "2",
               "--out", out, "--quiet", "--table-format", "latex")
    assert done.returncode == 0, done.stderr
    # LaTeX goes to summary.tex, beside the terminal's own tables (booktabs: tests/test_text_outputs.py)
    assert "\\begin{tabular}" not in done.stdout and "\\begin{tabular}" in (out / "summary.tex").read_text()
    assert f"tables (latex): {out / 'summary.tex'}" in done.stdout
    assert (out / "bdrate.csv").exists() and "BD metrics against jpeg2000" in done.stdout
    (out / "report.html").unlink()
    assert cli_main("report", out).returncode == 0 and (out / "report.html").exists()
    assert cli_main("run", "--codecs", "jpeg", "--limit", "5", "--table-format", "nope").returncode == 2


def test_history_table_and_plot(cli_main, stored_run, tmp_path):
    done = cli_main("history", stored_run, stored_run, "--metric", "bpp", "--plot", tmp_path / "h.png")
    assert done.returncode == 0, done.stderr
    assert "jpeg:quality=75" in done.stdout and (tmp_path / "h.png").exists()

"""The command line as a user meets it: errors are one line with exit code 2, runs write files."""

import json
import os
import stat

import pandas as pd
import pytest


@pytest.mark.parametrize("args,fragment", [
    (["run", "--codecs", "nosuch"], "unknown codec 'nosuch'; valid: "),
    (["run", "--codecs", "jpeg:qualty=5"], "unknown parameter 'qualty'; valid: quality=1..100"),
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
                               "per_class": 3, "jobs": manifest["run"]["jobs"]}
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

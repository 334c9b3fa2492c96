"""A results folder belongs to one run: reuse is refused unless --resume (the same command) or
--overwrite (replaced whole); default folders are unique; a run never writes into its baseline."""

import json
import re
import subprocess
from pathlib import Path

from conftest import COMPBENCH

from compbench.store.manifest import git_commit

SMALL = ("--codecs", "jpeg", "--limit", "20", "--quiet", "--no-figures")


def one_line_exit_2(done, fragment):
    assert done.returncode == 2, done.stderr
    assert fragment in done.stderr, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_folder_holding_a_run_is_refused_then_overwritten_whole(cli_main, tmp_path):
    out = tmp_path / "Y"
    assert cli_main("run", *SMALL, "--out", out).returncode == 0
    first = (out / "records.csv").read_text()
    one_line_exit_2(cli_main("run", "--codecs", "webp", "--limit", "20", "--quiet", "--out", out),
                    f"{out} already holds a run; continue it with --resume, replace it with --overwrite")
    assert (out / "records.csv").read_text() == first  # untouched
    (out / "rd_psnr.png").write_text("stale figure of the old run")
    done = cli_main("run", "--codecs", "webp", "--limit", "20", "--quiet", "--no-figures", "--out", out, "--overwrite")
    assert done.returncode == 0, done.stderr
    assert not (out / "rd_psnr.png").exists()  # nothing of the old run stays
    records = (out / "records.csv").read_text()
    assert records.count("codec,setting") == 1 and "jpeg:quality" not in records


def test_resume_must_repeat_the_runs_own_command(cli_main, tmp_path):
    out = tmp_path / "R"
    assert cli_main("run", *SMALL, "--out", out).returncode == 0
    one_line_exit_2(cli_main("run", "--codecs", "webp", "--limit", "20", "--quiet", "--out", out, "--resume"),
                    "--resume: this command differs from the run in")
    one_line_exit_2(cli_main("run", *SMALL, "--resume"), "--resume needs --out DIR")
    one_line_exit_2(cli_main("run", *SMALL, "--out", tmp_path / "none", "--resume"), "holds no run to continue")
    one_line_exit_2(cli_main("run", *SMALL, "--out", out, "--resume", "--overwrite"), "exclude each other")
    done = cli_main("run", *SMALL, "--out", out, "--resume")
    assert done.returncode == 0, done.stderr
    assert (out / "records.csv").read_text().count("jpeg:quality=75") == 20


def test_runs_started_together_get_their_own_default_folders(tmp_path):
    runs = [subprocess.Popen([str(COMPBENCH), "run", *SMALL], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(3)]
    for run in runs:
        _, stderr = run.communicate(timeout=300)
        assert run.returncode == 0, stderr
    folders = sorted((tmp_path / "results").iterdir())
    assert len(folders) == 3
    for folder in folders:
        assert (folder / "records.csv").read_text().count("\n") == 21


def test_a_run_may_not_write_into_its_baseline(cli_main, tmp_path):
    base = tmp_path / "A"
    assert cli_main("run", *SMALL, "--out", base).returncode == 0
    before = (base / "summary.csv").read_text()
    for out in (base, base / "inside"):
        one_line_exit_2(cli_main("run", *SMALL, "--out", out, "--overwrite", "--baseline", base, "--fail-on-regression"),
                        "overlap: the run would overwrite the baseline")
    assert (base / "summary.csv").read_text() == before


def test_refusals_come_before_any_folder_is_made(cli_main, tmp_path):
    out = tmp_path / "never"
    for args, fragment in [
        (("--figure-format", "png,jpg2"), "unknown figure format 'jpg2'"),
        (("--anchor", "nosuch"), "unknown --anchor 'nosuch'"),
        (("--codecs", "jpeg:quality=1..inf"), "with finite numbers"),
        (("--codecs", "jpeg2000:psnr=30:ratio=20"), "psnr and ratio are alternatives"),
        (("--dataset", "mnist:colour=1"), "unknown parameter 'colour'"),
    ]:
        one_line_exit_2(cli_main("run", "--limit", "5", "--quiet", *args, "--out", out), fragment)
        assert not out.exists()
    one_line_exit_2(cli_main("run", *SMALL, "--out", ""), "--out: is empty")


def test_failed_images_exit_1_naming_the_setting_that_failed_everywhere(cli, tmp_path, with_zoo):
    done = cli("run", "--codecs", "zoo-good,zoo-create-raises", "--limit", "10", "--quiet", "--no-figures",
               "--out", tmp_path / "E")
    assert done.returncode == 1, done.stderr
    assert "zoo-create-raises failed on every image (10)" in done.stderr
    assert (tmp_path / "E" / "report.html").exists()  # everything written first
    allowed = cli("run", "--codecs", "zoo-create-raises", "--limit", "5", "--quiet", "--no-figures",
                  "--out", tmp_path / "F", "--allow-errors")
    assert allowed.returncode == 0, allowed.stderr


def test_a_codec_of_a_plugin_that_failed_to_import_is_named(cli, cli_main, tmp_path, with_zoo):
    done = cli_main("run", "--codecs", "zoo-unimportable", "--limit", "5")
    one_line_exit_2(done, "plugin 'zoo_unimportable' failed to load (ModuleNotFoundError")
    run = cli("run", "--codecs", "zoo-good", "--limit", "5", "--quiet", "--no-figures", "--out", tmp_path / "M")
    manifest = json.loads((tmp_path / "M" / "manifest.json").read_text())
    assert "zoo_unimportable" in manifest["failed_plugins"], run.stderr


def test_output_piped_into_head_ends_quietly(tmp_path):
    done = subprocess.run(f"'{COMPBENCH}' list | head -n 1", shell=True, capture_output=True, text=True,
                          cwd=tmp_path, timeout=120)
    assert done.stdout.startswith("codecs:") and done.stderr == ""


def test_the_git_commit_is_compbenchs_own_or_none(tmp_path):
    project = tmp_path / "someone-elses-project"
    package = project / ".venv" / "site-packages" / "compbench"
    package.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    subprocess.run(["git", "-C", str(project), "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q",
                    "--allow-empty", "-m", "theirs"], check=True)
    assert git_commit(package) is None
    # compbench's own checkout (these tests run from it): its HEAD, as git itself says
    root = Path(__file__).parents[1]
    head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True)
    expected = head.stdout.strip() if head.returncode == 0 else None  # None: a copy outside git
    own = git_commit(root / "compbench")
    assert (own and own.removesuffix("-dirty")) == expected
    assert expected is None or re.fullmatch(r"[0-9a-f]{40}", expected)

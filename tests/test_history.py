"""compbench.analysis.history: a metric across stored runs, ordered by when they started."""

import json
import math
import shutil

import pandas as pd
import pytest

from compbench import api
from compbench.analysis.history import history, open_runs
from compbench.contracts.errors import CompbenchError

JPEG, J2K = "jpeg:quality=75", "jpeg2000:psnr=30"


@pytest.fixture(scope="module")
def stored_runs(tmp_path_factory):
    """Three copies of one real run, given out of order start times and a psnr that drifts."""
    root = tmp_path_factory.mktemp("history")
    api.run("jpeg,jpeg2000", limit=50, out=root / "source")
    starts = {"run-b": ("2026-03-02T10:00:00+00:00", 0.0),
              "run-a": ("2026-03-01T10:00:00+00:00", -0.5),
              "run-c": ("2026-03-02T12:30:00+02:00", 0.25)}  # 10:30 UTC: last
    for name, (started, shift) in starts.items():
        folder = root / name
        shutil.copytree(root / "source", folder)
        summary = pd.read_csv(folder / "summary.csv", dtype={"class": str})
        summary.loc[summary["setting"] == JPEG, "psnr_mean"] += shift
        summary.to_csv(folder / "summary.csv", index=False)
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest["started"] = started
        (folder / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_runs_are_ordered_by_start_time_with_settings_as_columns(stored_runs):
    frame = history(open_runs([stored_runs / name for name in ("run-c", "run-a", "run-b")]))
    assert list(frame.index) == ["run-a", "run-b", "run-c"]
    assert list(frame.columns) == [JPEG, J2K]
    base = frame.loc["run-b", JPEG]
    assert frame.loc["run-a", JPEG] == pytest.approx(base - 0.5)
    assert frame.loc["run-c", JPEG] == pytest.approx(base + 0.25)
    assert frame[J2K].nunique() == 1
    assert frame.attrs["metric"] == "psnr" and frame.attrs["cls"] == "all"


def test_class_and_metric_choice(stored_runs):
    runs = open_runs([stored_runs / "run-a", stored_runs / "run-b"])
    by_class = history(runs, metric="bpp", cls=3)
    summary = pd.read_csv(stored_runs / "run-a" / "summary.csv", dtype={"class": str})
    expected = summary.loc[(summary["setting"] == J2K) & (summary["class"] == "3"), "bpp_mean"].item()
    assert by_class.loc["run-a", J2K] == pytest.approx(expected)
    pooled = history(runs, metric="bpp_pooled")
    assert pooled.loc["run-a", JPEG] == pytest.approx(history(runs, metric="bpp").loc["run-a", JPEG])


def test_a_setting_missing_from_a_run_is_nan(stored_runs, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(stored_runs / "run-c", partial)
    summary = pd.read_csv(partial / "summary.csv", dtype={"class": str})
    summary[summary["setting"] != J2K].to_csv(partial / "summary.csv", index=False)
    manifest = json.loads((partial / "manifest.json").read_text())
    del manifest["codecs"][J2K]  # a run of fewer codecs
    (partial / "manifest.json").write_text(json.dumps(manifest))
    frame = history(open_runs([stored_runs / "run-a", partial]))
    assert math.isnan(frame.loc["partial", J2K]) and not math.isnan(frame.loc["run-a", J2K])


def test_bad_requests_are_one_line_errors(stored_runs, tmp_path):
    runs = open_runs([stored_runs / "run-a"])
    with pytest.raises(CompbenchError, match="no metric 'vmaf' in the summary; metrics: errors, lossless"):
        history(runs, metric="vmaf")
    with pytest.raises(CompbenchError, match=r"has no class '12'; classes: 0, 1, .*, all"):
        history(runs, cls="12")
    with pytest.raises(CompbenchError, match="at least one results folder"):
        open_runs([])
    bare = tmp_path / "bare"
    bare.mkdir()
    shutil.copy(stored_runs / "run-a" / "summary.csv", bare / "summary.csv")
    with pytest.raises(CompbenchError, match="has no manifest.json with a 'started' time"):
        history(open_runs([bare]))


def test_plot_writes_a_png(stored_runs, tmp_path):
    frame = history(open_runs([stored_runs / name for name in ("run-a", "run-b", "run-c")]))
    frame.loc["run-b", J2K] = math.inf  # a lossless point leaves a gap instead of breaking the axis
    from compbench.present.charts import plot_history  # matplotlib: when drawing, not at collection

    out = plot_history(frame, tmp_path / "psnr-history.png")
    assert out == tmp_path / "psnr-history.png"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
    with pytest.raises(CompbenchError, match="cannot write"):
        plot_history(frame, tmp_path / "no-such-folder" / "x.png")


def test_history_reads_each_manifest_once_and_notes_different_images(stored_runs, tmp_path, capsys, monkeypatch):
    from compbench.cli import main
    from compbench.store import manifest as manifest_module
    from compbench.store import results_folder

    fewer = tmp_path / "fewer"
    shutil.copytree(stored_runs / "run-a", fewer)
    manifest = json.loads((fewer / "manifest.json").read_text())
    manifest["run"]["images"] = 40
    (fewer / "manifest.json").write_text(json.dumps(manifest))
    read, original = [], manifest_module.read_manifest

    def counted(path, *args, **kwargs):
        read.append(path)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(results_folder, "read_manifest", counted)
    monkeypatch.setattr(manifest_module, "read_manifest", counted)  # as images_note once read them
    runs = [stored_runs / "run-b", fewer, stored_runs / "run-a"]
    assert main(["history", *map(str, runs), "--plot", str(tmp_path / "h.png")]) == 0
    assert len(read) == len(runs)
    images = manifest["run"]["images"]
    assert f"note: the runs measured different images (mnist test x50, mnist test x{images})" in capsys.readouterr().err


def test_folders_sharing_a_name_stay_two_runs(stored_runs, tmp_path, capsys):
    """Two runs both kept as ``.../run``: the newer gets the default plot, and their different
    images are noted (not merged by name)."""
    from compbench.cli import main

    older, newer = tmp_path / "monday" / "run", tmp_path / "tuesday" / "run"
    shutil.copytree(stored_runs / "run-c", older)  # started last of the three copies
    shutil.copytree(stored_runs / "run-a", newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["started"], manifest["run"]["images"] = "2026-04-01T09:00:00+00:00", 40
    (newer / "manifest.json").write_text(json.dumps(manifest))
    assert main(["history", str(newer), str(older)]) == 0
    out, err = capsys.readouterr()
    assert (newer / "history_psnr.png").is_file() and not (older / "history_psnr.png").exists()
    assert f"plot: {newer / 'history_psnr.png'}" in out
    assert "note: the runs measured different images (mnist test x40, mnist test x50)" in err  # as given
    assert out.index(str(older)) < out.index(str(newer))  # labelled by whole path, oldest first


@pytest.fixture(scope="module")
def jpeg_runs(tmp_path_factory):
    """JPEG's curve three times: a ladder, the same with 5 % more bytes, another ladder."""
    from curve_runs import JPEG_LADDER, padded_registry, run

    root = tmp_path_factory.mktemp("bd-history")
    run(JPEG_LADDER, root / "first", limit=200)
    run(JPEG_LADDER, root / "padded", limit=200, registry=padded_registry())
    run("jpeg:quality=15..95/20", root / "resampled", limit=200)
    return [root / name for name in ("first", "padded", "resampled")]


def test_bd_rate_history_follows_the_order_given(jpeg_runs, tmp_path, capsys):
    from compbench.analysis.history import bd_rate_history
    from compbench.cli import main
    from compbench.present.curves import plot_bd_rate_history

    frame = bd_rate_history(jpeg_runs, "jpeg")
    assert list(frame.index) == ["first", "padded", "resampled"]  # as given, not by start time
    assert frame.loc["first", "bd_rate_pct"] == 0.0
    assert frame.loc["padded", "bd_rate_pct"] == pytest.approx(5.0, abs=0.5)
    assert abs(frame.loc["resampled", "bd_rate_pct"]) < 1.0
    manifests = [json.loads((run / "manifest.json").read_text()) for run in jpeg_runs]
    assert list(frame["started"]) == [m["started"] for m in manifests]
    assert list(frame["commit"]) == [m.get("git_commit") or "" for m in manifests]
    out = plot_bd_rate_history(frame, tmp_path / "bd.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["history", *map(str, jpeg_runs[::-1]), "--bd-rate", "jpeg", "--json", "--plot",
                 str(tmp_path / "h.png")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["run"] for r in report["runs"]] == ["resampled", "padded", "first"]
    assert report["runs"][0]["bd_rate_pct"] == 0.0 and report["runs"][1]["bd_rate_pct"] > 4


def test_bd_rate_history_refusals(jpeg_runs, stored_runs):
    from compbench.analysis.history import bd_rate_history

    with pytest.raises(CompbenchError, match="at least two results folders"):
        bd_rate_history(jpeg_runs[:1], "jpeg")
    with pytest.raises(CompbenchError, match=r"codec webp is not in the base"):
        bd_rate_history(jpeg_runs, "webp")
    with pytest.raises(CompbenchError, match=r"ran on different images \(selected images --limit 200"):
        bd_rate_history([jpeg_runs[0], stored_runs / "run-a"], "jpeg")

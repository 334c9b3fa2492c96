"""The metric registry: one declaration per metric, read by every part of a run.

Plugins here are registered in process (``build_registry(extra_plugins=...)``); the outside
distribution end to end is tests/test_metric_plugin.py.
"""

import importlib.util
import json
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from compbench import Metric, api, hookimpl
from compbench.analysis.compare import compare
from compbench.contracts.codec import CodecFactory
from compbench.contracts.errors import CompbenchError, PluginError
from compbench.contracts.registry import build_registry
from compbench.metrics import CORE, CORE_METRICS, METRIC_ERROR, MetricSet
from compbench.present.tables import class_table, format_value
from compbench.store.summary import summarize


def max_error(originals, reconstructions):
    difference = originals.astype(np.int16) - reconstructions.astype(np.int16)
    return np.abs(difference).reshape(len(originals), -1).max(axis=1).astype(float)


def broken(originals, reconstructions):
    raise RuntimeError("no model weights")


def wrong_length(originals, reconstructions):
    return np.zeros(len(originals) + 1)


MAX_ERROR = Metric("max_error", "max |x-y|", "levels", "lower", fmt=".1f", quality_axis=True,
                   compute=max_error, description="largest absolute error")
BROKEN = Metric("broken", "broken", compute=broken, better="higher")
WRONG = Metric("wrong", "wrong", compute=wrong_length)


def metric_plugin(*metrics):
    @hookimpl
    def register_metrics(register):
        for metric in metrics:
            register(metric)
    return SimpleNamespace(register_metrics=register_metrics)


def zlibraw_plugin():
    """The test suite's lossless third-party codec, loaded from its file (not installed)."""
    path = Path(__file__).parent / "thirdparty" / "compbench_zlibraw" / "compbench_zlibraw.py"
    spec = importlib.util.spec_from_file_location("metric_test_zlibraw", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def registry():
    return build_registry(extra_plugins=[("maxerr", metric_plugin(MAX_ERROR, BROKEN, WRONG)),
                                         ("zlibraw", zlibraw_plugin())])


@pytest.fixture(scope="module")
def run(registry):
    return api.run("jpeg:quality=10|90,zlibraw", per_class=2, write=False, registry=registry, jobs=1,
                   rd_metrics="psnr,max_error")


# ---------------------------------------------------------------- declarations


def test_core_declarations_cover_every_core_column():
    names = [m.name for m in CORE_METRICS]
    assert names == ["bytes", "bpp", "bpp_payload", "mse", "psnr", "psnr_y", "psnr_ycbcr", "snr_db", "ssim",
                     "ms_ssim", "entropy", "snr_paper", "encode_s", "decode_s"]
    assert CORE.table_metrics() == ["bpp", "psnr", "snr_db", "ssim", "entropy", "snr_paper"]
    assert [m for m in names if CORE[m].timing] == ["encode_s", "decode_s"]
    assert CORE.quality_axes() == ["psnr", "psnr_y", "psnr_ycbcr", "ssim", "ms_ssim"]


def test_display_follows_the_declaration():
    assert format_value(float("inf"), "psnr") == "lossless"
    assert format_value(float("inf"), "bpp") == "inf"  # not lossless-like: the number as is
    assert format_value(0.123456, "ssim") == "0.1235" and format_value(0.123456, "bpp") == "0.123"
    assert format_value(float("nan"), "psnr") == "-"
    assert format_value(np.int64(3), "errors") == "3"
    assert MAX_ERROR.display(4.0) == "4.0" and MAX_ERROR.axis_label() == "max |x-y| (levels)"


@pytest.mark.parametrize("bad", [dict(better="up"), dict(aggregate="median"), dict(fmt="%d")])
def test_bad_declarations_are_refused(bad):
    with pytest.raises(ValueError):
        Metric("x", "x", **bad)


def test_declarations_round_trip_through_json_and_pickle():
    declared = MetricSet.for_run(build_registry(extra_plugins=[("m", metric_plugin(MAX_ERROR))]))
    back = MetricSet.stored(json.loads(json.dumps({"metrics": declared.declarations()})))
    assert back.names == declared.names
    assert back["max_error"] == Metric(**{**vars(MAX_ERROR), "compute": None})
    # worker processes receive the set by fork or pickle: compute travels by reference
    assert pickle.loads(pickle.dumps(declared))["max_error"].compute is max_error


def test_a_summary_keeps_its_declarations_as_json_shared_by_its_copies(run):
    """summary.attrs stays plain JSON (pandas writes attrs into Parquet metadata), and is not
    copied again by every selection of the summary (pandas deep-copies attrs)."""
    import copy

    summary = run.summary
    assert json.loads(json.dumps(summary.attrs))["metrics"]["max_error"]["better"] == "lower"
    assert copy.deepcopy(summary.attrs)["metrics"] is summary.attrs["metrics"]
    assert summary[summary["class"] == "all"].attrs["metrics"] is summary.attrs["metrics"]


def test_a_folder_without_declarations_reads_as_core():
    assert MetricSet.stored(None).names == CORE.names
    assert MetricSet.stored({"metrics": {}}).names == CORE.names
    assert MetricSet.stored({}).describe("someones_metric").better == "none"


# ---------------------------------------------------------------- registration


def test_plugin_cannot_take_a_core_name():
    impostor = Metric("psnr", "my PSNR", compute=max_error, better="higher")
    with pytest.raises(PluginError, match=r"plugin 'impostor' .* registered metric 'psnr', a name of "
                                          r"compbench's core metrics"):
        build_registry(extra_plugins=[("impostor", metric_plugin(impostor))])


def test_codec_cannot_declare_a_core_or_plugin_name(registry):
    class Factory(CodecFactory):
        name = "shadow"
        metrics = (Metric("ssim", "SSIM"),)

    @hookimpl
    def register_codecs(register):
        register(Factory())

    with pytest.raises(PluginError, match="codec 'shadow' declares metric 'ssim', a name of compbench's core"):
        build_registry(extra_plugins=[("shadow", SimpleNamespace(register_codecs=register_codecs))])
    Factory.metrics = (Metric("max_error", "mine"),)
    with pytest.raises(PluginError, match="codec 'shadow' declares metric 'max_error', which plugin 'maxerr'"):
        MetricSet.for_run(registry, [Factory()])


def test_codec_declared_metric_joins_the_run_set(registry):
    declared = MetricSet.for_run(registry, [registry.codec("ddcae"), registry.codec("jpeg")])
    assert declared.names[-1] == "code_entropy" and declared["code_entropy"].better == "lower"
    assert "code_entropy" not in MetricSet.for_run(registry, [registry.codec("jpeg")])


# ---------------------------------------------------------------- measuring


def test_plugin_metric_failures_cost_only_that_metric(registry):
    declared = MetricSet.for_run(registry)
    x = np.random.default_rng(0).integers(0, 256, (4, 16, 16), dtype=np.uint8)
    y = x.copy()
    y[:, 0, 0] ^= 8
    notes: list[str] = []
    values = declared.measure(x, y, [50] * 4, 0, notes=notes)
    np.testing.assert_array_equal(values["max_error"], [8.0] * 4)
    assert np.isnan(values["broken"]).all() and np.isnan(values["wrong"]).all()
    assert np.isfinite(values["psnr"]).all()
    assert notes == ["broken: RuntimeError: no model weights",
                     "wrong: ValueError: returned shape (5,), expected (4,): one value per image"]


def test_run_records_summary_tables_and_manifest(run):
    records, summary = run.records, run.summary
    assert list(records.columns[-5:]) == ["max_error", "broken", "wrong", METRIC_ERROR, "error"]
    assert (records["max_error"] > 0).any() and (records["error"] == "").all()
    # one note per unit: every image says why broken and wrong have no value
    assert records[METRIC_ERROR].str.match(r"broken: RuntimeError: no model weights; wrong: ValueError: "
                                           r"returned shape \(\d+,\)").all()
    assert "max_error_mean" in summary and "broken_mean" in summary
    assert summary["broken_mean"].isna().all()
    assert "max |x-y| (levels)" in class_table(summary)  # declared table=True by default; its heading
    assert run.manifest["metrics"]["max_error"]["better"] == "lower"
    assert "compute" not in run.manifest["metrics"]["max_error"]
    assert sum(run.manifest["metric_errors"].values()) == len(records)
    zlib = summary[(summary["setting"] == "zlibraw:level=6") & (summary["class"] == "all")].iloc[0]
    assert zlib["max_error_mean"] == 0.0 and zlib["lossless"] == zlib["count"]


def test_max_error_matches_its_definition_per_image(run):
    records = run.records.set_index(["setting", "index"])
    for setting, reconstructions in run.samples.items():
        for position, y in reconstructions.items():
            x = run.data.images[position]
            want = np.abs(x.astype(int) - y.astype(int)).max()
            assert records.loc[(setting, run.data.indices[position]), "max_error"] == want


def test_rd_metrics_are_declared_quality_axes(run, registry):
    assert run.rd_metrics == ("psnr", "max_error")
    assert run.bdrate is None  # no curve of the default anchor (jpeg2000) to compare with
    # with curves to compare: one BD table per rd metric
    curves = api.run("jpeg:quality=10|90,webp:quality=10|90", per_class=1, write=False, registry=registry, jobs=1,
                     rd_metrics="psnr,max_error", anchor="jpeg")
    assert set(curves.bdrate["quality"]) == {"psnr", "max_error"}
    with pytest.raises(CompbenchError, match="--rd-metrics bpp: not a quality metric of this run; valid: psnr"):
        api.run("jpeg", limit=2, write=False, registry=registry, rd_metrics="bpp")


def test_infinite_when_lossless_plugin_metric_aggregates_like_psnr():
    inverse = Metric("inv_mse", "1/mse", better="higher", infinite_when_lossless=True)
    frame = pd.DataFrame({"codec": "c", "setting": "c:1", "dataset": "d", "split": "s", "index": range(3),
                          "label": 0, "class": "0", "pixels": 4, "bytes": [1, 1, 1], "mse": [0.0, 1.0, 4.0],
                          "inv_mse": [np.inf, 1.0, 0.25], "error": ""})
    summary = summarize(frame, ["0"], MetricSet(list(CORE_METRICS) + [inverse]))
    row = summary[summary["class"] == "all"].iloc[0]
    assert row["inv_mse_mean"] == pytest.approx(0.625) and row["lossless"] == 1
    assert MetricSet([inverse]).describe("inv_mse").display(np.inf) == "lossless"


# ---------------------------------------------------------------- stored runs, plots


def test_compare_gates_by_the_stored_declaration(tmp_path):
    base = api.run("jpeg:quality=10", per_class=1, out=tmp_path / "base", figures=False,
                   registry=build_registry(extra_plugins=[("m", metric_plugin(MAX_ERROR))]))
    worse = tmp_path / "worse"
    worse.mkdir()
    summary = base.summary.copy()
    summary["max_error_mean"] += 1  # lower is better: a regression
    summary.to_csv(worse / "summary.csv", index=False)
    (worse / "manifest.json").write_text((base.out_dir / "manifest.json").read_text())
    comparison = compare(base.out_dir, worse)  # no plugin in this registry: the manifest says
    assert not comparison.passed
    assert set(comparison.regressions["metric"]) == {"max_error"}
    older = tmp_path / "older"  # a baseline written before runs declared metrics
    older.mkdir()
    base.summary.drop(columns=[c for c in base.summary if c.startswith(("max_error", "ms_ssim"))]).to_csv(
        older / "summary.csv", index=False)
    manifest = json.loads((base.out_dir / "manifest.json").read_text())
    del manifest["metrics"]
    (older / "manifest.json").write_text(json.dumps(manifest))
    # gated metrics the older baseline lacks: neither a pass nor a regression, a mismatch (exit 2);
    # ms_ssim, NaN on every digit (under 161 px), has no value to gate and is left out
    with pytest.raises(CompbenchError, match=r"gated metric\(s\) max_error are in the new run but "
                                             "not the baseline"):
        compare(older, base.out_dir)
    assert compare(older, base.out_dir, metrics=["bpp", "psnr", "ssim"]).passed


def test_lossless_settings_are_markers_not_curves():
    from compbench.present import charts  # matplotlib: when a test draws, not at collection

    rows = []
    for codec, settings in {"lossy": [(1.0, 30.0, 0), (2.0, 35.0, 0)], "exact": [(6.0, np.inf, 5), (7.5, np.inf, 5)]}.items():
        for k, (bpp, psnr, lossless) in enumerate(settings):
            rows.append({"codec": codec, "setting": f"{codec}:{k}", "class": "all", "count": 5,
                         "lossless": lossless, "bpp_mean": bpp, "psnr_mean": psnr, "ssim_mean": 1.0 if lossless else 0.9})
    summary = pd.DataFrame(rows)
    fig = charts.rd_figure(summary, "psnr", "bpp", charts.codec_colors(summary["codec"]))
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert set(lines) == {"lossy", "exact (lossless)"}
    exact = lines["exact (lossless)"]
    assert exact.get_linestyle() == "None" and exact.get_marker() == charts.LOSSLESS_MARKER
    np.testing.assert_array_equal(exact.get_xdata(), [6.0, 7.5])
    np.testing.assert_array_equal(exact.get_ydata(), [1.0, 1.0])  # the top edge (axes units)
    assert [t.get_text() for t in fig.axes[0].texts] == ["lossless"]  # one note per codec
    ssim = charts.rd_figure(summary, "ssim", "bpp", charts.codec_colors(summary["codec"]))
    exact = {line.get_label(): line for line in ssim.axes[0].get_lines()}["exact (lossless)"]
    np.testing.assert_array_equal(exact.get_ydata(), [1.0, 1.0])  # finite: at its value
    assert not ssim.axes[0].texts


def test_old_folders_learn_a_codec_metric_from_the_installed_codec(tmp_path):
    # two folders written before runs declared their metrics, both with ddcae's code_entropy
    summary = pd.DataFrame({"codec": ["ddcae"], "setting": ["ddcae:step=0.7"], "dataset": ["mnist"],
                            "split": ["test"], "class": ["all"], "count": [5], "errors": [0],
                            "code_entropy_mean": [0.19]})
    for name, value in (("old", 0.19), ("new", 0.25)):
        (tmp_path / name).mkdir()
        summary.assign(code_entropy_mean=value).to_csv(tmp_path / name / "summary.csv", index=False)
    comparison = compare(tmp_path / "old", tmp_path / "new")
    assert list(comparison.regressions["metric"]) == ["code_entropy"]  # lower is better, gated

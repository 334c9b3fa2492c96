"""BD-rate / BD-quality against the independent ``bjontegaard`` package (method="pchip"), on
real compbench sweeps and on the package's textbook curves, plus the edge cases."""

import math
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from compbench import api
from compbench.analysis.bd_views import bd_matrix, grouped_warnings
from compbench.analysis.bdrate import (
    METHOD,
    TABLE_COLUMNS,
    WARNING_SEPARATOR,
    bd_quality,
    bd_rate,
    bd_table,
    format_bd_table,
    pchip_integral,
)
from compbench.analysis.references import ReferenceCurve
from compbench.analysis.run_bd import default_anchor, run_bd
from compbench.contracts.errors import CompbenchError
from compbench.contracts.registry import build_registry


def bd():
    """The independent reference, a declared test dependency (the test extra): imported
    plainly, so a missing package fails instead of skipping, and at test time, not collection."""
    import bjontegaard

    return bjontegaard

# The bjontegaard package's example curves (FAU-LMS/bjontegaard, example_usage.py): x265 rates
# in kbps, PSNR in dB, highest rate first.
TEXTBOOK = {
    "four points": ([9487.76, 4593.60, 2486.44, 1358.24], [40.037, 38.615, 36.845, 34.851],
                    [9787.80, 4469.00, 2451.52, 1356.24], [40.121, 38.651, 36.970, 34.987]),
    "high rates": ([82472.76, 26875.24, 9487.76, 4593.6], [43.825, 41.404, 40.037, 38.615],
                   [99896.96, 33952.04, 9787.8, 4469.0], [44.731, 41.875, 40.121, 38.651]),
    "six points": ([82472.76, 26875.24, 9487.76, 4593.6, 3600, 2900], [43.825, 41.404, 40.037, 38.615, 36.5, 35.1],
                   [99896.96, 33952.04, 9787.8, 4469.0, 4040, 3300], [44.731, 41.875, 40.121, 38.651, 37, 36.5]),
}
RATE = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
PSNR = np.array([28.0, 31.5, 34.2, 37.0, 40.1])


def reference(function, *curves) -> float:
    with warnings.catch_warnings():  # it warns about overlap; our own warnings are tested below
        warnings.simplefilter("ignore")
        return function(*curves, method="pchip", require_matching_points=False)


def same(ours: float, theirs: float) -> bool:
    return (math.isnan(ours) and math.isnan(theirs)) or ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@pytest.fixture(scope="module")
def sweep():
    """A real rate sweep of jpeg and jpeg2000 on 100 MNIST test digits (a few seconds)."""
    return api.run("jpeg,jpeg2000", sweep=True, per_class=10, write=False).summary


def curve(summary, codec, class_name, quality="psnr_mean"):
    rows = summary[(summary["codec"] == codec) & (summary["class"] == class_name)].sort_values("bpp_mean")
    return rows["bpp_mean"].to_numpy(), rows[quality].to_numpy()


@pytest.mark.parametrize("quality", ["psnr_mean", "ssim_mean"])
def test_real_sweep_matches_bjontegaard_in_every_class(sweep, quality):
    name = quality.removesuffix("_mean")
    classes, rates_compared = list(dict.fromkeys(sweep["class"])), 0
    for class_name in classes:
        anchor, test = curve(sweep, "jpeg2000", class_name, quality), curve(sweep, "jpeg", class_name, quality)
        by_rate = bd_rate(*anchor, *test, anchor="jpeg2000", test="jpeg", quality=name)
        assert same(bd_quality(*anchor, *test).value, reference(bd().bd_psnr, *anchor, *test))
        if np.all(np.diff(test[1]) > 0) and np.all(np.diff(anchor[1]) > 0):
            rates_compared += 1
            assert same(by_rate.value, reference(bd().bd_rate, *anchor, *test))
        else:
            # JPEG's SSIM dips between some quality settings on digits: bjontegaard cannot
            # interpolate rate over a non-monotonic quality; we compute and say so
            assert any(w.startswith(f"jpeg: {name} does not increase with bpp") for w in by_rate.warnings)
            assert math.isfinite(by_rate.value)
    if name == "psnr":  # PSNR rises with bpp for both codecs in every class: every BD-rate is checked
        assert rates_compared == len(classes)


def test_real_sweep_jpeg_needs_more_bits_than_jpeg2000(sweep):
    table = bd_table(sweep, anchor="jpeg2000", by_class=True)
    assert list(table.columns) == TABLE_COLUMNS
    assert list(table["class"]) == [str(c) for c in range(10)] + ["all"]
    overall = table[table["class"] == "all"].iloc[0]
    anchor, test = curve(sweep, "jpeg2000", "all"), curve(sweep, "jpeg", "all")
    assert overall["bd_rate_pct"] == pytest.approx(reference(bd().bd_rate, *anchor, *test), rel=1e-9)
    assert overall["bd_rate_pct"] > 20  # on 28x28 digits JPEG's headers and 8x8 blocks cost a lot
    registry = build_registry()
    ladders = (len(registry.codec("jpeg").ladder), len(registry.codec("jpeg2000").ladder))
    assert (overall["points"], overall["anchor_points"]) == ladders
    assert overall["overlap_low"] == pytest.approx(max(anchor[1].min(), test[1].min()))


@pytest.mark.parametrize("name", TEXTBOOK)
def test_textbook_curves_match_bjontegaard(name):
    curves = TEXTBOOK[name]
    rate, quality = bd_rate(*curves), bd_quality(*curves)
    assert rate.value == pytest.approx(reference(bd().bd_rate, *curves), rel=1e-9)
    assert quality.value == pytest.approx(reference(bd().bd_psnr, *curves), rel=1e-9)
    assert rate.warnings == quality.warnings == ()


def test_textbook_values_are_pinned():
    # from bjontegaard 1.3.0 (pchip), which matches the JCT-VC Excel sheet
    curves = TEXTBOOK["four points"]
    assert bd_rate(*curves).value == pytest.approx(-4.4174853506, abs=1e-8)
    assert bd_quality(*curves).value == pytest.approx(0.1196927854, abs=1e-8)


def pchip_cases():
    """Curves of 2 to 12 points: rising, falling, with flats, turns and repeated x."""
    rng = np.random.default_rng(7)
    cases = [(np.array([0.0, 1.0]), np.array([2.0, 5.0])),  # a line
             (np.array([0.0, 1.0, 2.0]), np.array([1.0, 1.0, 3.0])),  # a flat
             (np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.0, 2.0, 1.0, 4.0])),  # turns
             (np.array([0.0, 0.1, 5.0, 5.2]), np.array([0.0, 3.0, 3.1, 9.0])),  # uneven spacing
             (np.array([2.0, 1.0, 1.0, 0.0]), np.array([4.0, 3.0, 2.0, 0.0]))]  # repeated x, unsorted
    for n in range(2, 13):
        x = np.sort(rng.uniform(-3, 3, n))
        cases += [(x, np.cumsum(rng.uniform(0, 2, n))), (x, rng.normal(size=n) * 10**rng.uniform(-3, 3))]
    return cases


@pytest.mark.parametrize("x, y", pchip_cases())
def test_pchip_integral_is_scipys(x, y):
    """The numpy PCHIP integral gives what scipy's PchipInterpolator integrates, over the
    whole curve and over inner spans that start and end inside pieces or on knots."""
    from scipy.interpolate import PchipInterpolator

    knots, inverse = np.unique(x, return_inverse=True)
    scipy_pchip = PchipInterpolator(knots, np.bincount(inverse, weights=y) / np.bincount(inverse))
    lo, hi = knots[0], knots[-1]
    for low, high in [(lo, hi), (lo + 0.3 * (hi - lo), hi - 0.1 * (hi - lo)), (knots[len(knots) // 2], hi),
                      (lo + 0.01 * (hi - lo), lo + 0.02 * (hi - lo))]:
        expected = scipy_pchip.integrate(low, high)
        assert pchip_integral(x, y, low, high) == pytest.approx(expected, rel=1e-12, abs=1e-12 * np.ptp(y))


def test_bd_values_need_no_scipy():
    """scipy.interpolate's import costs ~0.3 s of CPU at the end of every run with BD tables."""
    code = ("import sys\n"
            "from compbench.analysis.bdrate import bd_rate\n"
            "bd_rate([1, 2, 4, 8], [30, 33, 36, 39], [1, 2, 4, 8], [31, 34, 36.5, 40])\n"
            "print('scipy.interpolate' in sys.modules)")
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "False", found.stderr


def test_point_order_does_not_matter():
    shuffled = [3, 0, 4, 1, 2]
    result = bd_rate(RATE, PSNR, RATE[shuffled] * 0.8, PSNR[shuffled])
    assert result.value == pytest.approx(-20.0)


def test_identical_curves_give_zero():
    assert bd_rate(RATE, PSNR, RATE, PSNR).value == pytest.approx(0.0, abs=1e-12)
    assert bd_quality(RATE, PSNR, RATE, PSNR).value == pytest.approx(0.0, abs=1e-12)


def test_half_the_rate_gives_minus_fifty_percent():
    result = bd_rate(RATE, PSNR, RATE / 2, PSNR)
    assert result.value == pytest.approx(-50.0)
    assert result.overlap == pytest.approx((PSNR[0], PSNR[-1]))
    assert bd_quality(RATE, PSNR, RATE / 2, PSNR).value > 0  # better at every shared rate


def test_one_db_better_gives_plus_one_db():
    assert bd_quality(RATE, PSNR, RATE, PSNR + 1).value == pytest.approx(1.0)
    assert bd_rate(RATE, PSNR, RATE, PSNR + 1).value < 0


def test_curves_that_do_not_overlap_give_nan_and_name_both_codecs():
    result = bd_rate(RATE, PSNR, RATE, PSNR + 20, anchor="jpeg2000", test="webp")
    assert math.isnan(result.value)
    assert math.isnan(reference(bd().bd_rate, RATE, PSNR, RATE, PSNR + 20))
    (message,) = result.warnings
    assert "webp and jpeg2000 do not overlap in psnr" in message
    assert "webp 48..60.1" in message and "jpeg2000 28..40.1" in message
    assert "\n" not in message


def test_small_overlap_is_flagged():
    result = bd_quality(RATE, PSNR, RATE * 7, PSNR)
    assert math.isfinite(result.value)
    assert any("overlap over only" in w and "BD-PSNR" in w for w in result.warnings)


def test_non_monotonic_curve_is_flagged_with_its_codec():
    dip = PSNR.copy()
    dip[3] = 33.0  # quality drops although the rate rises
    result = bd_rate(RATE, PSNR, RATE, dip, anchor="jpeg", test="ddcae")
    assert math.isfinite(result.value)
    assert any(w.startswith("ddcae: psnr does not increase with bpp") for w in result.warnings)
    assert not any(w.startswith("jpeg:") for w in result.warnings)


def test_few_points_still_work_but_warn():
    result = bd_rate(RATE[:3], PSNR[:3], RATE[:3] / 2, PSNR[:3], test="jpeg")
    assert result.value == pytest.approx(-50.0)
    assert any("jpeg: only 3 points" in w for w in result.warnings)
    two = bd_rate(RATE[:2], PSNR[:2], RATE[:2], PSNR[:2])
    assert two.value == pytest.approx(0.0, abs=1e-12) and two.points == (2, 2)


def test_a_single_point_gives_nan():
    result = bd_rate(RATE, PSNR, RATE[:1], PSNR[:1], test="jpeg")
    assert math.isnan(result.value)
    assert any("jpeg: 1 usable point" in w and "--sweep" in w for w in result.warnings)


def test_lossless_points_are_dropped_with_a_note():
    with_lossless = bd_rate(RATE, PSNR, np.append(RATE / 2, 20.0), np.append(PSNR, np.inf), test="avif")
    assert with_lossless.value == pytest.approx(-50.0)
    assert with_lossless.points == (5, 5)
    assert any("avif: dropped 1 point" in w and "lossless" in w for w in with_lossless.warnings)


def summary_of(curves: dict[str, tuple]) -> pd.DataFrame:
    rows = [{"codec": codec, "setting": f"{codec}:q={i}", "dataset": "mnist", "split": "test",
             "class": "all", "bpp_mean": r, "psnr_mean": q}
            for codec, (rates, qualities) in curves.items() for i, (r, q) in enumerate(zip(rates, qualities))]
    return pd.DataFrame(rows)


def test_bd_table_rows_and_warnings():
    summary = summary_of({"jpeg2000": (RATE, PSNR), "webp": (RATE / 2, PSNR), "far": (RATE, PSNR + 30)})
    table = bd_table(summary, anchor="jpeg2000").set_index("codec")
    assert table.loc["webp", "bd_rate_pct"] == pytest.approx(-50.0)
    assert table.loc["webp", "warning"] == ""
    assert math.isnan(table.loc["far", "bd_rate_pct"])
    assert "do not overlap" in table.loc["far", "warning"]
    text = format_bd_table(table.reset_index())
    assert "-50.00%" in text and "n/a" in text
    assert "warning (class all): far and jpeg2000 do not overlap in psnr" in text


def test_table_warnings_split_back_into_whole_messages():
    # report.py splits the warning column on WARNING_SEPARATOR: no message may contain it
    summary = summary_of({"jpeg2000": (RATE[:1], PSNR[:1]), "webp": (RATE[:3], [30.0, 29.0, np.inf])})
    row = bd_table(summary, anchor="jpeg2000").iloc[0]
    notes = row["warning"].split(WARNING_SEPARATOR)
    assert len(notes) == 4 and all(note.startswith(("jpeg2000: ", "webp: ")) for note in notes)


def test_bd_table_unknown_anchor_lists_the_codecs():
    summary = summary_of({"jpeg": (RATE, PSNR), "webp": (RATE / 2, PSNR)})
    with pytest.raises(CompbenchError, match=r"anchor codec 'jpeg2000' is not in the results; codecs present: jpeg, webp"):
        bd_table(summary, anchor="jpeg2000")


def test_bd_table_needs_a_second_codec_and_a_known_metric():
    summary = summary_of({"jpeg2000": (RATE, PSNR)})
    with pytest.raises(CompbenchError, match="only the anchor codec"):
        bd_table(summary, anchor="jpeg2000")
    with pytest.raises(CompbenchError, match="no metric 'vmaf'"):
        bd_table(summary, anchor="jpeg2000", quality="vmaf")


# ---------------------------------------------------------------- a run's BD: never silently absent

def settings_of(curves: dict[str, tuple]) -> pd.DataFrame:
    """A summary with classes "3" and "all" (the same curve in each)."""
    return pd.concat([summary_of(curves).assign(**{"class": name}) for name in ("3", "all")], ignore_index=True)


def test_the_default_anchor_is_jpeg2000_when_swept_else_the_first_swept_codec():
    assert default_anchor(summary_of({"jpeg": (RATE, PSNR), "jpeg2000": (RATE, PSNR)})) == "jpeg2000"
    assert default_anchor(summary_of({"webp": (RATE[:1], PSNR[:1]), "jpeg": (RATE, PSNR),
                                      "avif": (RATE, PSNR)})) == "jpeg"
    assert default_anchor(summary_of({"jpeg2000": (RATE[:1], PSNR[:1]), "webp": (RATE, PSNR)})) == "webp"
    assert default_anchor(summary_of({"jpeg": (RATE[:1], PSNR[:1])})) is None


@pytest.mark.parametrize("curves,anchor,reason", [
    ({"jpeg": (RATE[:1], PSNR[:1]), "jpeg2000": (RATE[:1], PSNR[:1])}, None, "every codec ran at one setting"),
    ({"jpeg": (RATE, PSNR), "jpeg2000": (RATE[:1], PSNR[:1])}, "jpeg2000", "the anchor jpeg2000 ran at one setting"),
    ({"jpeg": (RATE, PSNR)}, None, "jpeg is the only codec of the run"),
    ({"jpeg": (RATE, PSNR), "webp": (RATE[:1], PSNR[:1])}, None, "only the anchor jpeg ran at two or more"),
])
def test_no_bd_table_says_why_in_one_line(curves, anchor, reason):
    bd = run_bd(settings_of(curves), anchor, ("psnr",))
    assert bd.table is None and bd.reason.startswith(f"no BD-rate: {reason}") and "\n" not in bd.reason
    assert bd.facts()["reason"] == bd.reason and bd.facts()["method"] == METHOD


def test_run_bd_against_the_chosen_anchor_with_reference_rows():
    summary = settings_of({"jpeg": (RATE, PSNR), "webp": (RATE / 2, PSNR), "png": (RATE[:1], PSNR[:1])})
    reference = ReferenceCurve("vtm", "vtm.json", "", tuple(RATE / 4), (("psnr", tuple(PSNR)), ("ms_ssim", (0.9,) * 5)))
    only_ms_ssim = ReferenceCurve("x", "x.csv", "", tuple(RATE), (("ms_ssim", (0.9,) * 5),))
    bd = run_bd(summary, None, ("psnr",), [reference, only_ms_ssim])
    assert bd.anchor == "jpeg" and bd.reason is None
    assert list(zip(bd.table["codec"], bd.table["class"])) == [("webp", "3"), ("png", "3"), ("webp", "all"),
                                                              ("png", "all")]
    rows = bd.references.set_index("anchor")["bd_rate_pct"]  # vtm against each swept codec
    assert list(rows.index) == ["jpeg", "webp"]
    assert rows["jpeg"] == pytest.approx(-75.0) and rows["webp"] == pytest.approx(-50.0)
    (note,) = bd.notes
    assert note.startswith("reference x (x.csv) has ms_ssim, none of this run's BD metrics (psnr)")


def test_the_bd_matrix_and_grouped_warnings():
    summary = settings_of({"jpeg2000": (RATE, PSNR), "webp": (RATE / 2, PSNR), "far": (RATE[:3], PSNR[:3] + 30)})
    table = run_bd(summary.assign(ssim_mean=summary["psnr_mean"] / 50), None, ("psnr", "ssim")).table
    matrix = bd_matrix(table)
    assert list(matrix.columns) == ["codec", "anchor", "psnr", "ssim"]
    assert list(matrix["codec"]) == ["webp", "far"]
    assert matrix.loc[0, "psnr"] == pytest.approx(-50.0) and math.isnan(matrix.loc[1, "psnr"])
    assert bd_matrix(table, "bd_quality").loc[0, "psnr"] > 0
    grouped = grouped_warnings(table)
    texts = [g.text for g in grouped]
    assert len(texts) == len(set(texts))  # each once
    (few,) = [g for g in grouped if g.text.startswith("far: only 3 points")]
    assert few.rows == ("far vs jpeg2000, psnr, class 3", "far vs jpeg2000, psnr, all images",
                        "far vs jpeg2000, ssim, class 3", "far vs jpeg2000, ssim, all images")


def test_coverage_is_the_overlap_share_of_the_wider_curve():
    assert bd_rate(RATE, PSNR, RATE, PSNR).coverage == pytest.approx(1.0)
    shifted = bd_rate(RATE, PSNR, RATE, PSNR + 6.05)  # overlap 34.05..40.1 of 28..40.1 and 34.05..46.15
    assert shifted.coverage == pytest.approx(6.05 / 12.1)
    assert math.isnan(bd_rate(RATE, PSNR, RATE, PSNR + 20).coverage)


def test_a_real_run_chooses_its_anchor_or_says_why_there_is_none(capsys, tmp_path):
    from compbench.cli import main

    swept = api.run("jpeg:quality=20|50|80,webp:quality=20|50|80", limit=20, write=False, jobs=1)
    assert swept.bd_anchor == "jpeg" and set(swept.bdrate["codec"]) == {"webp"}
    assert swept.manifest["bd"]["anchor"] == "jpeg"
    single = api.run("jpeg,jpeg2000", limit=20, write=False, jobs=1)
    assert single.bdrate is None and single.bd_reason.startswith("no BD-rate: every codec ran at one setting")
    assert single.manifest["bd"]["reason"] == single.bd_reason
    assert main(["run", "--codecs", "jpeg,jpeg2000", "--limit", "10", "--jobs", "1", "--quiet", "--no-figures",
                 "--out", str(tmp_path / "one")]) == 0
    assert "note: no BD-rate: every codec ran at one setting" in capsys.readouterr().err
    assert main(["run", "--codecs", "jpeg:quality=20|80", "--anchor", "webp", "--limit", "10",
                 "--out", str(tmp_path / "never")]) == 2
    err = capsys.readouterr().err
    assert "--anchor webp is not a codec of this run (jpeg); name one of them, or add webp to --codecs" in err
    assert err.count("\n") == 1 and not (tmp_path / "never").exists()

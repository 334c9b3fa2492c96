import pytest

from compbench.contracts.errors import CompbenchError, did_you_mean
from compbench.run.spec import expand_values, parse_codec_specs


def labels(text, registry, **kw):
    return [s.label for s in parse_codec_specs(text, registry, **kw)]


def test_defaults_and_explicit_values(registry):
    assert labels("jpeg,jpeg2000", registry) == ["jpeg:quality=75", "jpeg2000:psnr=30"]
    assert labels("jpeg:quality=50,jpeg2000:psnr=30", registry) == ["jpeg:quality=50", "jpeg2000:psnr=30"]


def test_continuation_and_colon_params(registry):
    specs = parse_codec_specs("jpeg2000:psnr=25,numres=2", registry)
    assert specs[0].kwargs["numres"] == 2 and specs[0].kwargs["psnr"] == 25.0
    assert parse_codec_specs("jpeg2000:psnr=25:numres=2", registry) == specs


def test_ranges_and_lists_expand(registry):
    assert labels("jpeg:quality=10..30/10", registry) == [f"jpeg:quality={q}" for q in (10, 20, 30)]
    assert labels("jpeg:quality=5|50", registry) == ["jpeg:quality=5", "jpeg:quality=50"]
    assert expand_values("0.5..1.5/0.5", "x") == ["0.5", "1", "1.5"]


def test_a_range_stops_at_its_end():
    assert expand_values("10..95/10", "jpeg") == [str(q) for q in range(10, 100, 10)]
    assert expand_values("0.5..3", "x") == ["0.5", "1.5", "2.5"]
    assert expand_values("0..0.3/0.1", "x") == ["0", "0.1", "0.2", "0.3"]  # float steps reach the end


def test_a_short_range_needs_no_step(registry):
    assert labels("jpeg:quality=1..20", registry) == [f"jpeg:quality={q}" for q in range(1, 21)]
    assert len(labels("jpeg:quality=1..100/1", registry)) == 100  # a step given is meant


def test_no_suggestion_when_nothing_is_close():
    assert did_you_mean("nosuch", ["jpeg", "png"]) == "; "
    assert did_you_mean("msssim", ["psnr", "ssim", "ms_ssim"]) == "; did you mean 'ms_ssim'? "


def test_sweep_uses_the_ladder_unless_rate_is_given(registry):
    assert len(labels("jpeg", registry, sweep=True)) == len(registry.codec("jpeg").ladder)
    assert labels("jpeg:quality=40", registry, sweep=True) == ["jpeg:quality=40"]


@pytest.mark.parametrize("text,fragment", [
    ("nosuch", "unknown codec 'nosuch'; valid: "),
    ("jpeg:qualty=50", "unknown parameter 'qualty'; did you mean 'quality'? valid: quality=1..100"),
    ("jepg:quality=50", "unknown codec 'jepg'; did you mean 'jpeg'? valid: "),
    ("JPEG", "unknown codec 'JPEG'; did you mean 'jpeg'? valid: "),
    ("jpeg:quality=500", "quality=500 is out of range; valid: quality=1..100"),
    ("jpeg:quality=high", "'high' is not a valid int"),
    ("jpeg2000:backend=kakadu", "valid: backend=glymur|imagecodecs"),
    ("jpeg:quality", "is not key=value"),
    ("quality=5", "comes before any codec name"),
    ("", "no codec given"),
    ("jpeg,jpeg", "given twice"),
    ("jpeg:quality=90..10/10", "is empty"),
    ("jpeg:quality=nan..10", "with finite numbers"),
    ("jpeg:quality=1..inf", "with finite numbers"),
    ("jpeg:quality=|", "has an empty value"),
    ("jpeg:quality=1..2e7", "expands to 20000000 settings, more than 1000"),
    ("jpeg:quality=10..90", "jpeg: range quality=10..90 expands to 81 settings; give a step, e.g. "
                            "quality=10..90/10"),
    ("jpeg2000:psnr=20..45", "range psnr=20..45 expands to 26 settings; give a step, e.g. psnr=20..45/5"),
    ("jpeg:quality=1..100/1,jpeg2000:psnr=1..100/0.1", "expands to more than 1000 settings"),
    ("ddcae:step=nan", "step='nan' is not a valid float"),
    ("ddcae:step=inf", "step='inf' is not a valid float"),
    ("jpeg:quality=5:quality=6", "is given quality= twice"),
    ("jpeg2000:psnr=30,ratio=20", "psnr and ratio are alternatives"),
])
def test_bad_specs_are_one_line_errors(registry, text, fragment):
    with pytest.raises(CompbenchError) as info:
        parse_codec_specs(text, registry)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


def test_the_label_is_the_setting_that_runs(registry):
    (spec,) = parse_codec_specs("jpeg2000:ratio=20", registry)
    assert spec.label == "jpeg2000:ratio=20"
    assert spec.kwargs["psnr"] is None and spec.kwargs["ratio"] == 20.0

"""Settings at matched rates, metric headings, and the per-image packing the report unpacks."""

import base64
import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from compbench.contracts.errors import CompbenchError
from compbench.metrics import CORE
from compbench.present.labels import heading, show_value
from compbench.present.matched import Target, match_settings, parse_compare_at
from compbench.present.per_image import PerImage


def summary(points: dict[str, list[tuple[float, float]]], lossless: tuple[str, ...] = ()) -> pd.DataFrame:
    """codec -> [(bpp, psnr)]: one overall row per setting."""
    rows = []
    for codec, settings in points.items():
        for k, (bpp, psnr) in enumerate(settings):
            setting = f"{codec}:q={k}"
            rows.append({"codec": codec, "setting": setting, "class": "all", "count": 10,
                         "lossless": 10 if setting in lossless else 0, "bpp_mean": bpp, "psnr_mean": psnr,
                         "ssim_mean": 0.9})
    return pd.DataFrame(rows)


def test_each_codec_gets_its_setting_nearest_the_target_in_log_rate():
    frame = summary({"a": [(0.1, 20), (0.3, 25), (0.95, 30)], "b": [(0.2, 22), (0.45, 26), (2.0, 33)]})
    matched = match_settings(frame, Target("bpp", 0.5))
    # a: 0.3 is a factor 1.67 below 0.5, 0.95 a factor 1.9 above (linear distance would pick 0.3
    # too); b: 0.45, not 0.2 or 2.0
    assert matched.settings == {"a": "a:q=1", "b": "b:q=1"}
    matched = match_settings(frame, Target("bpp", 0.8))
    # 0.8 -> a's 0.95 (factor 1.19), b's 0.45 (factor 1.78) over 2.0 (factor 2.5)
    assert matched.settings == {"a": "a:q=2", "b": "b:q=1"}
    assert matched.achieved["a:q=2"] == {"bpp": 0.95, "psnr": 30.0, "ssim": 0.9}


def test_default_target_is_the_median_bpp_of_the_lossy_settings():
    frame = summary({"a": [(0.1, 20), (0.3, 25), (0.95, 30)], "png": [(9.0, math.inf)]}, lossless=("png:q=0",))
    matched = match_settings(frame)
    assert matched.target == pytest.approx(0.3) and "median" in matched.how
    assert matched.settings == {"a": "a:q=1", "png": "png:q=0"}  # a lossless-only codec still shows
    assert "nearest 0.300 bpp" in matched.caption()


def test_a_quality_target_is_matched_plainly():
    frame = summary({"a": [(0.1, 20), (0.3, 25), (0.95, 30)]})
    assert match_settings(frame, parse_compare_at("psnr=27")).settings == {"a": "a:q=1"}
    assert match_settings(frame, parse_compare_at("psnr=28")).settings == {"a": "a:q=2"}


@pytest.mark.parametrize("text, message", [("bpp", "expected METRIC=VALUE"), ("mse=3", "expected METRIC=VALUE"),
                                           ("bpp=x", "not a number"), ("bpp=0", "above 0"),
                                           ("psnr=inf", "finite")])
def test_compare_at_mistakes_are_one_line(text, message):
    with pytest.raises(CompbenchError, match=message):
        parse_compare_at(text, CORE)


def test_one_heading_per_metric_and_timings_in_milliseconds():
    assert heading(CORE["psnr"]) == "PSNR (dB)" and heading(CORE["snr_db"]) == "SNR (dB)"
    assert heading(CORE["encode_s"]) == "encode (ms)" and heading(CORE["ssim"]) == "SSIM"
    assert show_value("encode_s", 0.000043125) == "0.043" and show_value("psnr", math.inf) == "lossless"
    assert CORE["entropy"].gating() == "no" and CORE["encode_s"].gating() == "with --include-timings"
    assert CORE["psnr"].gating() == "yes" and CORE.declarations()["entropy"]["gating"] == "no"


def unpack(entry: dict) -> dict[str, np.ndarray]:
    """What report.js does, in Python: base64, gzip, byte planes."""
    buffer = np.frombuffer(gzip.decompress(base64.b64decode(entry["data"])), dtype=np.uint8)
    n, columns = entry["count"], {}
    for name, column in [("index", entry["ids"]), *entry["columns"].items()]:
        if "same" in column:
            continue
        planes = buffer[column["start"]: column["start"] + n * column["width"]].reshape(column["width"], n)
        ints = sum(planes[k].astype(np.int64) << (8 * k) for k in range(column["width"]))
        values = (ints + column["offset"]) / column.get("scale", 1)
        for key, fill in (("nan", np.nan), ("inf", np.inf), ("-inf", -np.inf)):
            values[column.get(key, [])] = fill
        columns[name] = values
    for name, column in entry["columns"].items():
        if "same" in column:
            columns[name] = columns[column["same"]]
    return columns


def test_per_image_values_pack_small_and_unpack_as_shown():
    rng = np.random.default_rng(0)
    n = 5000
    psnr = rng.uniform(15, 45, n)
    psnr[[3, 9]] = np.inf  # lossless images
    records = {"codec": np.full(n, "a", dtype=object), "setting": np.full(n, "a:q=1", dtype=object),
               "index": np.arange(n)[::-1], "class": np.array([str(i % 3) for i in range(n)], dtype=object),
               "pixels": np.full(n, 784.0), "error": np.array([""] * (n - 1) + ["boom"], dtype=object),
               "bpp": rng.uniform(0.1, 4, n), "psnr": psnr, "psnr_y": psnr.copy(),
               "encode_s": rng.uniform(1e-5, 1e-3, n), "ms_ssim": np.full(n, np.nan)}
    table = PerImage(["bpp", "psnr", "psnr_y", "encode_s", "ms_ssim"], CORE)
    table.add(records, order=np.arange(n)[::-1])  # given in reverse: packed in record order
    table.settle("a:q=1")
    packed = table.packed()
    entry = packed["settings"]["a:q=1"]
    assert packed["images"]["index"] == list(range(n))
    assert entry["columns"]["psnr_y"] == {"same": "psnr"} and "ms_ssim" not in entry["columns"]
    assert entry["errors"] == {"0": "boom"}  # the last record given is the first in record order
    columns = unpack(entry)
    back = {name: values[::-1] for name, values in records.items() if name in columns}
    np.testing.assert_array_equal(columns["index"], back["index"])
    np.testing.assert_allclose(columns["bpp"], np.round(back["bpp"], 3))
    np.testing.assert_allclose(columns["encode_s"], np.round(back["encode_s"] * 1000, 3))  # shown in ms
    assert np.isinf(columns["psnr"][[n - 1 - 3, n - 1 - 9]]).all()
    finite = np.isfinite(back["psnr"])
    np.testing.assert_allclose(columns["psnr"][finite], np.round(back["psnr"][finite], 3))
    # rounded as shown, in byte planes: well under the 8 bytes of a float per value
    assert len(entry["data"]) * 3 / 4 < n * 4 * 3 / 2
    json.dumps(packed)  # the page embeds it as JSON
    # the worst images: failed first, then the lowest PSNR
    worst = table.worst({"a": "a:q=1"})["a"]
    assert worst["error"].iloc[0] == "boom" and worst["psnr"].iloc[1] == np.sort(psnr)[0]
    with pytest.raises(ValueError, match="after it was settled"):
        table.add(records)

"""Aggregation: per-class means, pooled bpp/PSNR, lossless and failed images."""

import numpy as np
import pandas as pd

from compbench.present.tables import class_table
from compbench.store.summary import summarize


def records(psnr, mse, nbytes, classes, errors=None):
    n = len(psnr)
    return pd.DataFrame({
        "codec": "c", "setting": "c:q=1", "dataset": "d", "split": "test", "index": range(n),
        "label": [int(c) for c in classes], "class": classes, "pixels": 100,
        "bytes": nbytes, "bpp": [8 * b / 100 for b in nbytes], "bpp_payload": np.nan, "mse": mse,
        "psnr": psnr, "snr_db": psnr, "ssim": 1.0, "entropy": 1.0, "snr_paper": 0.5,
        "encode_s": 0.001, "decode_s": 0.001, "error": errors or [""] * n,
    })


def test_means_pooled_values_and_lossless_images():
    frame = records(psnr=[np.inf, 30.0, 40.0, np.inf], mse=[0.0, 65.025, 6.5025, 0.0],
                    nbytes=[10, 20, 30, 40], classes=["0", "0", "1", "1"])
    summary = summarize(frame, ("0", "1")).set_index("class")
    overall = summary.loc["all"]
    assert overall["count"] == 4 and overall["lossless"] == 2
    assert overall["psnr_mean"] == 35.0  # the lossy images; lossless ones are counted apart
    assert np.isclose(overall["psnr_pooled"], 10 * np.log10(255**2 / np.mean([0, 65.025, 6.5025, 0])))
    assert overall["bpp_pooled"] == 8 * 100 / 400
    assert summary.loc["0", "psnr_mean"] == 30.0 and summary.loc["0", "lossless"] == 1


def test_all_lossless_is_shown_as_lossless():
    frame = records(psnr=[np.inf] * 2, mse=[0.0, 0.0], nbytes=[5, 5], classes=["0", "1"])
    summary = summarize(frame, ("0", "1"))
    assert np.isinf(summary.set_index("class").loc["all", "psnr_mean"])
    assert "lossless" in class_table(summary)


def test_failed_images_are_counted_not_averaged():
    frame = records(psnr=[30.0, np.nan], mse=[65.025, np.nan], nbytes=[10, 0], classes=["0", "0"],
                    errors=["", "encode failed: boom"])
    overall = summarize(frame, ("0",)).set_index("class").loc["all"]
    assert overall["count"] == 1 and overall["errors"] == 1 and overall["psnr_mean"] == 30.0
    assert overall["bpp_pooled"] == 0.8


def test_records_file_appends_whole_rows_and_ends_in_canonical_order(tmp_path):
    from compbench.store.records_file import RecordsFile
    from compbench.store.records_reader import read_records
    from compbench.store.schema import record_columns

    columns = record_columns(["my_metric"])
    first = records(psnr=[30.0, 31.0], mse=[65.025, 50.0], nbytes=[10, 12], classes=["0", "1"])
    second = records(psnr=[np.inf], mse=[0.0], nbytes=[9], classes=["1"], errors=["encode failed: x, y"])
    second = second.assign(index=[2], my_metric=[0.5])
    path = tmp_path / "records.csv"
    writer = RecordsFile.create(path, columns)
    writer.append(second, np.array([[0, 2]]))  # finished first, belongs last
    writer.append(first, np.array([[0, 0], [0, 1]]))
    writer.finish()
    on_disk = read_records(path)
    assert on_disk["index"].tolist() == [0, 1, 2] and list(on_disk.columns) == columns
    assert on_disk["my_metric"].isna().tolist() == [True, True, False]
    assert on_disk["error"].tolist() == ["", "", "encode failed: x, y"] and on_disk["psnr"].iloc[2] == np.inf
    assert path.read_bytes().endswith(b"\n")


def test_csv_rows_writes_what_pandas_to_csv_writes():
    """records.csv's own formatter against pandas' to_csv: floats over 16 orders of magnitude,
    the special values, integers, booleans and text that needs quoting."""
    from compbench.store.csv_text import csv_rows

    rng = np.random.default_rng(7)
    n = 2000
    floats = {f"m{k}": rng.random(n) * 10.0 ** rng.integers(-8, 9, n) * rng.choice([-1, 1], n) for k in range(6)}
    frame = pd.DataFrame({
        "codec": np.full(n, "jpeg2000", dtype=object),
        "setting": np.array(["jpeg2000:psnr=30,numres=2", "x"] * (n // 2), dtype=object),
        "index": np.arange(n), "label": rng.integers(0, 10, n).astype(np.uint8),
        "flag": rng.random(n) > 0.5, **floats,
        "error": np.full(n, "", dtype=object),
    })
    specials = [np.nan, np.inf, -np.inf, -0.0, 0.0, 12.0, 1e16, 1e-5, 5e-324, 1.7976931348623157e308, 0.1 + 0.2]
    frame.loc[: len(specials) - 1, "m0"] = specials
    texts = ['a, "quoted" thing', "line\nbreak", "carriage\rreturn", '"', ",", None, np.nan, "plain", " spaced "]
    frame.loc[: len(texts) - 1, "error"] = pd.Series(texts, dtype=object)
    # few distinct values, as sizes and per-batch times have: formatted once each, -0.0 apart
    frame["sizes"] = rng.choice([366.0, 1.0 / 3.0, 0.0, np.nan, np.inf], n)
    frame["signed_zeros"] = rng.choice([0.0, -0.0, 2.5], n)
    frame["copy_of_m1"] = frame["m1"]  # formatted once for both
    frame["all_nan"], frame["all_nan_too"] = np.nan, np.nan
    frame["mixed"] = pd.Series(rng.choice(np.array([1, True, 1.0, "1", "a,b"], dtype=object), n), dtype=object)
    expected = frame.to_csv(index=False, header=False, lineterminator="\n").encode("utf-8")
    assert csv_rows(frame) == expected
    assert csv_rows(frame.iloc[:0]) == b""


def test_float_texts_are_repr_at_every_magnitude_and_at_the_form_boundaries():
    """The fast float text (orjson's shortest digits where its form is repr's, repr elsewhere)
    is repr, NaN empty: every power of ten from subnormals to the largest double, the values
    next to the boundaries where the two libraries' forms differ, integers, float32 columns."""
    from compbench.store.csv_text import ORJSON_AS_REPR, float_texts

    rng = np.random.default_rng(11)
    edges = [np.nextafter(edge, toward) for edge in (*ORJSON_AS_REPR, 1e-4, 1e-5, 1e16) for toward in (0, np.inf)]
    values = np.concatenate([
        rng.random(20_000) * 10.0 ** rng.integers(-320, 308, 20_000) * rng.choice([-1, 1], 20_000),
        rng.integers(-10**6, 10**6, 1000).astype(np.float64), 10.0 ** np.arange(-323, 309),
        [*ORJSON_AS_REPR, *edges, 1e-4, 1e-5, 1e16, 0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324],
        # a unit's per-image times: one value repeated, each distinct value formatted once
        np.repeat(rng.random(40) * 1e-3 * rng.choice([-1, 1], 40), 50), np.repeat([np.nan, 1e-9, -0.0], 30)])
    assert float_texts(values) == ["" if v != v else repr(v) for v in values.tolist()]
    singles = (rng.random(5000) * 10.0 ** rng.integers(-40, 38, 5000)).astype(np.float32)
    assert float_texts(singles) == [repr(v) for v in singles.tolist()]
    assert float_texts(values[:0]) == []

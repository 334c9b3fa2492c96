"""The summary of records.csv read a chunk at a time equals the summary of the records in memory
(the path every run took before): the same rows, columns and values, bit for bit."""

import numpy as np
import pandas as pd
import pytest

from compbench import api
from compbench.pipeline.result import RecordsOnDisk
from compbench.store.records_reader import iter_records, read_records
from compbench.store.schema import TIMING_COLUMNS
from compbench.store.summary import summarize, summarize_file

CLASSES = [str(i) for i in range(10)]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    codecs = "jpeg:quality=10|60,jpeg2000:psnr=30"
    return api.run(codecs, limit=150, out=out, jobs=1, figures=False), api.run(codecs, limit=150, jobs=1, write=False)


@pytest.mark.parametrize("chunk_rows", [1, 7, 149, 150, 151, 10_000])
def test_chunked_summary_equals_the_whole_one(written, chunk_rows):
    path = written[0].out_dir / "records.csv"
    whole = summarize(read_records(path), CLASSES)
    chunked = summarize_file(path, CLASSES, chunk_rows=chunk_rows)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    assert chunked.to_csv() == whole.to_csv()


def test_a_run_summarizes_its_file_as_it_summarized_its_records_in_memory(written):
    on_disk, in_memory = written
    assert isinstance(on_disk.stored, RecordsOnDisk)  # records not held, read when asked
    timing = [c for c in on_disk.summary if any(c.startswith(t) for t in TIMING_COLUMNS)]
    pd.testing.assert_frame_equal(on_disk.summary.drop(columns=timing), in_memory.summary.drop(columns=timing),
                                  check_exact=True)
    # the records read back are the records computed (floats exactly: round_trip parsing)
    # (metric_error reads back as "" where the frame in memory has NaN: no metric failed)
    assert (on_disk.records["metric_error"] == "").all() and in_memory.records["metric_error"].isna().all()
    untimed = TIMING_COLUMNS + ["metric_error"]
    pd.testing.assert_frame_equal(on_disk.records.drop(columns=untimed), in_memory.records.drop(columns=untimed),
                                  check_exact=True)
    assert on_disk.data.images.shape == (150, 28, 28) and len(on_disk.selection) == 150


def test_unordered_records_fall_back_to_the_whole_file(written, tmp_path):
    path = written[0].out_dir / "records.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    shuffled = tmp_path / "records.csv"
    body = lines[1:]
    np.random.default_rng(0).shuffle(body)
    shuffled.write_bytes(b"".join([lines[0], *body]))
    expected = summarize(read_records(shuffled), CLASSES)
    pd.testing.assert_frame_equal(summarize_file(shuffled, CLASSES, chunk_rows=50), expected, check_exact=True)


def test_iter_records_leaves_out_a_torn_last_line(written, tmp_path):
    data = (written[0].out_dir / "records.csv").read_bytes()
    torn = tmp_path / "records.csv"
    torn.write_bytes(data + b"jpeg,jpeg:quality=10,mni")
    chunks = list(iter_records(torn, 100))
    assert sum(len(c) for c in chunks) == data.count(b"\n") - 1 == 450

"""The summary a run builds as its records stream in (a unit at a time, in any order, each
setting summarized once complete) equals the summary of all its records at once, bit for bit;
records.csv reads back, whole or a chunk at a time, as the records computed."""

import numpy as np
import pandas as pd
import pytest

from compbench import api
from compbench.pipeline.result import RecordsInMemory, RecordsOnDisk, StoredRecords
from compbench.store.records_reader import iter_records, read_records
from compbench.store.schema import TIMING_COLUMNS
from compbench.store.summary import SummaryBuilder, summarize

CLASSES = [str(i) for i in range(10)]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run"
    codecs = "jpeg:quality=10|60,jpeg2000:psnr=30"
    return api.run(codecs, limit=150, out=out, jobs=1, figures=False), api.run(codecs, limit=150, jobs=1, write=False)


@pytest.mark.parametrize("part_rows", [1, 7, 149, 150, 151, 10_000])
def test_a_summary_built_from_parts_in_any_order_equals_the_whole_one(written, part_rows):
    records = written[0].records
    settings = list(dict.fromkeys(records["setting"]))
    builder = SummaryBuilder(CLASSES)
    expected = records["setting"].value_counts()
    starts = np.arange(0, len(records), part_rows)
    for start in np.random.default_rng(part_rows).permutation(starts):  # as units finish
        part = records.iloc[start:start + part_rows]
        builder.add(part, order=np.arange(start, start + len(part)))
        for label in dict.fromkeys(part["setting"]):  # as the run's sink settles a setting
            if builder.rows_of(label) >= expected[label]:
                builder.settle(label)
    built = builder.frame(settings)
    whole = summarize(records, CLASSES)
    pd.testing.assert_frame_equal(built, whole, check_exact=True)
    assert built.to_csv() == whole.to_csv()


def test_a_runs_summary_is_the_summary_of_its_records(written):
    for result in written:
        pd.testing.assert_frame_equal(result.summary, summarize(result.records, CLASSES), check_exact=True)


def test_a_run_summarizes_its_file_as_it_summarized_its_records_in_memory(written):
    on_disk, in_memory = written
    assert isinstance(on_disk.stored, RecordsOnDisk)  # records not held, read when asked
    assert isinstance(in_memory.stored, RecordsInMemory)
    assert all(isinstance(result.stored, StoredRecords) for result in written)  # read the one way
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


@pytest.mark.parametrize("chunk_rows", [1, 7, 149, 150, 151, 10_000])
def test_records_read_a_chunk_at_a_time_equal_the_whole_file(written, chunk_rows):
    path = written[0].out_dir / "records.csv"
    chunked = pd.concat(list(iter_records(path, chunk_rows)), ignore_index=True)
    pd.testing.assert_frame_equal(chunked, read_records(path), check_exact=True)


def test_iter_records_leaves_out_a_torn_last_line(written, tmp_path):
    data = (written[0].out_dir / "records.csv").read_bytes()
    torn = tmp_path / "records.csv"
    torn.write_bytes(data + b"jpeg,jpeg:quality=10,mni")
    chunks = list(iter_records(torn, 100))
    assert sum(len(c) for c in chunks) == data.count(b"\n") - 1 == 450

"""Fault isolation: a codec that raises or crashes never takes down the run."""

import os
import types

import numpy as np
import pandas as pd

from compbench import api
from compbench.contracts.codec import Codec, CodecFactory
from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.params import Param
from compbench.contracts.registry import build_registry


class Flaky(Codec):
    """Raw bytes, but fails on images whose first pixel row sums to a multiple of 7 (mode=raise),
    or kills its process (mode=crash)."""

    def encode(self, image):
        if self.settings["mode"] == "crash":
            os._exit(13)  # like a segfault in a C library: no exception, the process is gone
        if int(image.sum()) % 7 == 0:
            raise RuntimeError("cannot encode this one")
        return bytes([image.shape[0], image.shape[1]]) + image.tobytes()

    def decode(self, data):
        return np.frombuffer(data[2:], np.uint8).reshape(data[0], data[1]).copy()


class FlakyFactory(CodecFactory):
    name = "flaky"
    params = (Param("mode", str, "raise", choices=("raise", "crash")),)

    def create(self, **settings):
        return Flaky(**settings)


def flaky_registry():
    plugin = types.SimpleNamespace(register_codecs=hookimpl(lambda register: register(FlakyFactory())))
    return build_registry(extra_plugins=[("flaky", plugin)])


def test_a_raising_codec_costs_only_its_images(tmp_path):
    result = api.run("flaky,jpeg", limit=200, out=tmp_path, jobs=2, registry=flaky_registry())
    records = result.records
    flaky = records[records["codec"] == "flaky"]
    failed = flaky[flaky["error"] != ""]
    data = result.data
    expected = int(sum(int(img.sum()) % 7 == 0 for img in data.images))
    assert len(failed) == expected > 0
    assert failed["error"].str.contains("encode failed: RuntimeError: cannot encode this one").all()
    assert flaky.loc[flaky["error"] == "", "psnr"].eq(np.inf).all()
    assert (records.loc[records["codec"] == "jpeg", "error"] == "").all()
    overall = result.summary.set_index(["setting", "class"])
    assert overall.loc[("flaky", "all"), "errors"] == expected
    on_disk = pd.read_csv(tmp_path / "records.csv", keep_default_na=False)
    assert (on_disk["error"] != "").sum() == expected


def test_a_crashing_codec_costs_only_its_units(tmp_path):
    result = api.run("flaky:mode=crash,jpeg", limit=300, out=tmp_path, jobs=2, registry=flaky_registry())
    records = result.records
    crashed = records[records["codec"] == "flaky"]
    assert len(crashed) == 300
    # the first images each cost a worker; after ten in a row the setting is given up, saying why
    killed = crashed["error"].str.contains("worker exited with code 13 while encoding")
    assert killed.sum() >= 10 and (killed | crashed["error"].str.startswith("not run: 10 images in a row")).all()
    jpeg = records[records["codec"] == "jpeg"]
    assert len(jpeg) == 300 and (jpeg["error"] == "").all()


def test_in_process_and_pool_give_identical_metrics(tmp_path):
    serial = api.run("jpeg,jpeg2000", limit=120, jobs=1, write=False)
    pooled = api.run("jpeg,jpeg2000", limit=120, jobs=2, write=False)
    columns = ["setting", "index", "bytes", "psnr", "ssim", "entropy", "snr_paper"]
    pd.testing.assert_frame_equal(serial.records[columns], pooled.records[columns])

"""Fault isolation: a codec that raises or crashes never takes down the run."""

import os
import time
import types

import numpy as np
import pandas as pd
import pytest

from compbench import api
from compbench.contracts.codec import Codec, CodecFactory
from compbench.contracts.dataset import DatasetAdapter, ImageSet
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


class Raw(Codec):
    """Honest raw pixels with a shape header, any size, gray or RGB."""

    def encode(self, image):
        channels = image.shape[2] if image.ndim == 3 else 0
        return memoryview(bytes([image.shape[0], image.shape[1], channels]) + image.tobytes())

    def decode(self, data):
        h, w, c = data[0], data[1], data[2]
        return np.frombuffer(bytes(data[3:]), np.uint8).reshape((h, w, c) if c else (h, w)).copy()


class RawFactory(CodecFactory):
    def __init__(self, name, channels):
        self.name, self.channels = name, channels

    def create(self, **settings):
        return Raw(**settings)


class Mixed(DatasetAdapter):
    """Five images: two 28x28 gray, one 40x30 gray, two 32x32 RGB."""

    name, class_names = "mixed", ("a", "b")

    def load(self, split):
        rng = np.random.default_rng(0)
        shapes = [(28, 28), (40, 30), (32, 32, 3), (28, 28), (32, 32, 3)]
        images = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in shapes]
        return ImageSet(images, np.array([0, 1, 0, 1, 0]), np.arange(5), self.class_names)


def mixed_registry():
    plugin = types.SimpleNamespace(
        register_codecs=hookimpl(lambda register: [register(RawFactory("anyimage", (1, 3))),
                                                   register(RawFactory("graylike", (1,)))]),
        register_datasets=hookimpl(lambda register: register(Mixed())))
    return build_registry(extra_plugins=[("mixed", plugin)])


def test_mixed_sizes_and_colour_in_one_run(tmp_path):
    result = api.run("anyimage,graylike", dataset="mixed", out=tmp_path, jobs=2, registry=mixed_registry(),
                     figures=False)  # image grids of mixed sizes: not drawn yet
    records = result.records.set_index(["setting", "index"])
    assert (records["error"] == "").all() and (records["psnr"] == np.inf).all()
    # bpp per pixel (H x W), channels included in the bits
    assert records.loc[("anyimage", 1), "bpp"] == 8 * (3 + 40 * 30) / (40 * 30)
    assert records.loc[("anyimage", 2), "bpp"] == 8 * (3 + 32 * 32 * 3) / (32 * 32)
    assert records.loc[("anyimage", 2), "pixels"] == 32 * 32
    assert sorted(records.loc["graylike"].index) == [0, 1, 3]  # RGB is not applicable, not an error
    assert result.manifest["not_applicable"]["graylike"]["images"] == 2
    assert result.records["index"].tolist() == [0, 1, 2, 3, 4, 0, 1, 3]  # canonical order


def test_units_are_self_describing_one_shape_each_and_skip_what_is_recorded():
    from compbench.run.spec import CodecSpec
    from compbench.run.units import DataRef, UnitLayout, plan_units

    specs = [CodecSpec("a", (), "a"), CodecSpec("b", (("q", 1),), "b:q=1")]
    shapes = {0: (28, 28), 1: (40, 30), 2: (28, 28), 3: (28, 28, 3)}
    layout = UnitLayout(data=DataRef("mixed", "test"), shape_of=shapes, skip={"a": {(28, 28, 3)}},
                        samples=frozenset([2]))
    units = plan_units(specs, [0, 1, 2, 3], layout, jobs=1, done={(1, 2)})
    described = [(u.spec.label, u.positions, u.shape, u.samples) for u in units]
    assert described == [("a", (0, 2), (28, 28), (2,)), ("a", (1,), (40, 30), ()),
                         ("b:q=1", (0,), (28, 28), ()), ("b:q=1", (1,), (40, 30), ()),
                         ("b:q=1", (3,), (28, 28, 3), ())]
    assert [u.ordinal for u in units] == list(range(5)) and units[0].data == DataRef("mixed", "test")
    import pickle

    assert pickle.loads(pickle.dumps(units[0])) == units[0]  # any process can take one


def test_a_unit_holds_a_few_photographs_and_one_large_one():
    """Units are sliced by samples too: MNIST keeps its 2,500-digit units, 512x512 colour
    photographs go two to a unit, and a photograph from 2 Mpx up is a unit of its own (a
    worker holds its unit's images several times over; the memory rule counts one image)."""
    from compbench.run.spec import CodecSpec
    from compbench.run.units import UNIT_SAMPLES, DataRef, UnitLayout, plan_units

    spec = [CodecSpec("a", (), "a")]
    shapes = {**{p: (28, 28) for p in range(10_000)}, **{10_000 + p: (512, 512, 3) for p in range(5)},
              **{10_005 + p: (2000, 3000, 3) for p in range(3)}}
    layout = UnitLayout(data=DataRef("mixed", "test"), shape_of=shapes)
    units = plan_units(spec, list(shapes), layout, jobs=1)
    sizes = {shape: [len(u.positions) for u in units if u.shape == shape] for shape in set(shapes.values())}
    assert sizes == {(28, 28): [2500] * 4, (512, 512, 3): [2, 2, 1], (2000, 3000, 3): [1, 1, 1]}
    assert all(len(u.positions) == 1 or len(u.positions) * np.prod(u.shape) <= UNIT_SAMPLES for u in units)
    assert sorted(p for u in units for p in u.positions) == list(shapes)


def test_bitstreams_must_be_bytes_like_and_are_counted_in_bytes():
    from compbench.run.worker import bytes_problem

    words = np.zeros(10, dtype=np.uint32)
    assert bytes_problem(b"x") is None and bytes_problem(bytearray(3)) is None
    assert bytes_problem(memoryview(words)) is None and memoryview(words).nbytes == 40
    assert bytes_problem(words) == "encode returned numpy.ndarray, expected bytes (use .tobytes())"
    assert bytes_problem("abc") == "encode returned str, expected bytes"
    assert bytes_problem(None) == "encode returned NoneType, expected bytes"


def test_extra_metrics_cannot_overwrite_core_metrics_and_must_be_declared():
    from compbench import Metric
    from compbench.metrics import MetricSet
    from compbench.run.worker import measure

    class Sneaky(Raw):
        def extra_metrics(self, images):
            n = len(images)
            return {"psnr": np.full(n, 99.0), "bytes": np.zeros(n), "mine": np.ones(n), "other": np.ones(n)}

    images = np.zeros((2, 8, 8), np.uint8)
    metrics = MetricSet.for_run(None, [type("F", (), {"name": "sneaky", "metrics": (Metric("mine", "mine"),)})()])
    columns, (failed, ignored) = measure(metrics, Sneaky(), images, images, np.array([10, 12]),
                                         extra_allowed=("mine",))
    assert columns["psnr"].tolist() == [np.inf, np.inf] and columns["bytes"].tolist() == [10, 12]
    assert columns["mine"].tolist() == [1, 1] and "other" not in columns
    assert failed == [] and len(ignored) == 3
    assert "named like one compbench or a plugin computes ('psnr')" in ignored[0]
    assert "does not declare" in ignored[2]


#: the per-image time limit of the hang test: a hang bound, not a speed claim. The zoo's hang
#: sleeps an hour, so which images time out cannot depend on how loaded the machine is; an
#: honest image takes milliseconds (at 0.5 s one was once timed out on a busy machine)
HANG_TIMEOUT = 3


def test_a_hanging_image_times_out_and_the_rest_comes_through(with_zoo, tmp_path):
    import compbench_zoo

    result = api.run("zoo-hang:one_in=50,zoo-good", limit=100, out=tmp_path, jobs=2, timeout=HANG_TIMEOUT,
                     figures=False)
    hang = result.records[result.records["codec"] == "zoo-hang"]
    struck = [i for i, image in enumerate(result.data.images) if compbench_zoo.unlucky(image, 50)]
    assert len(struck) > 1 and hang.loc[hang["error"] != "", "index"].tolist() == struck
    assert (hang.loc[hang["error"] != "", "error"] == f"timed out after {HANG_TIMEOUT} s while encoding").all()
    assert (result.records.loc[result.records["codec"] == "zoo-good", "error"] == "").all()


THREADED_CALLER = """
import os, sys
import torch
print("top level ran", flush=True)  # no __main__ guard: a worker must not run this again
torch.set_num_threads(2)
(torch.rand(256, 256) @ torch.rand(256, 256)).sum()  # GNU OpenMP starts its thread pool here
assert len(os.listdir("/proc/self/task")) > 1
from compbench import api
result = api.run("ddcae", limit=24, jobs=int(sys.argv[1]), write=False, timeout=20)
rows = result.records
print("images", len(rows), "errors", int((rows["error"].fillna("") != "").sum()), flush=True)
"""


@pytest.mark.slow  # two fresh interpreters that load PyTorch and run ddcae
def test_a_caller_with_threads_gets_workers_that_do_not_hang(tmp_path):
    """A process that ran PyTorch on several threads and then calls compbench (a notebook
    that trained a model): forked workers would hang in OpenMP; compbench starts them from
    a fork server instead, and an unguarded calling script is not run again in them."""
    import subprocess
    import sys

    script = tmp_path / "caller.py"
    script.write_text(THREADED_CALLER)
    for jobs in ("1", "2"):
        done = subprocess.run([sys.executable, str(script), jobs], capture_output=True, text=True,
                              timeout=180, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.count("top level ran") == 1, done.stdout
        assert "images 24 errors 0" in done.stdout, done.stdout + done.stderr[-2000:]


def test_start_method_is_fork_for_the_command_and_in_process_registries():
    import subprocess
    import sys

    from compbench.run.local_pool import start_method_for

    assert start_method_for(object()) == "fork"  # an in-process registry travels only by fork
    # what the compbench command has loaded when it starts its pool: no torch, no threads
    check = ("import sys; from compbench.cli import main; from compbench.contracts.registry import build_registry; "
             "build_registry(); from compbench.run.local_pool import start_method_for; print(start_method_for())")
    done = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "fork", done.stderr[-2000:]


def test_a_worker_gives_an_already_imported_torch_its_share_of_the_cores(monkeypatch):
    """Workers forked from a fork server preloaded with torch find it imported, its thread
    count set for the whole machine; the worker's share must reach it too, not only the
    variables torch reads at import."""
    import torch

    from compbench.run.machine import THREAD_VARIABLES, use_threads

    for variable in THREAD_VARIABLES:  # restored after the test
        monkeypatch.setenv(variable, os.environ.get(variable, ""))
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        use_threads("1")
        assert torch.get_num_threads() == 1
        assert all(os.environ[variable] == "1" for variable in THREAD_VARIABLES)
    finally:
        torch.set_num_threads(before)


def _burn_cpu(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def test_stopping_the_fork_server_reaps_it_and_counts_its_workers_cpu():
    """The fork server is killed, not asked to exit (an interpreter with PyTorch takes about
    half a second to shut down), after its workers are reaped: their CPU time still counts in
    this process's children's, as a run's benchmarks read it."""
    import multiprocessing
    import resource
    from multiprocessing import forkserver

    from compbench.run import server_ready
    from compbench.run.local_pool import fork_server_ready, stop_fork_server, warm_fork_server

    stop_fork_server()  # one that an earlier test started without these preloads
    warm_fork_server(("json",))
    server_pid = forkserver._forkserver._forkserver_pid
    # the server marks when its imports are done, so a run knows it forks at once from then on
    ready_by = time.monotonic() + 60
    while not fork_server_ready() and time.monotonic() < ready_by:
        time.sleep(0.05)
    assert fork_server_ready() and server_ready.marker(server_pid).exists()
    def children_cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    before = children_cpu()
    worker = multiprocessing.get_context("forkserver").Process(target=_burn_cpu, args=(1.5,))
    worker.start()
    worker.join(60)
    assert worker.exitcode == 0
    stop_fork_server()
    assert forkserver._forkserver._forkserver_pid is None and not server_ready.marker(server_pid).exists()
    with pytest.raises(ProcessLookupError):
        os.kill(server_pid, 0)  # reaped, not a zombie
    # the worker's 1.5 s: more than the server's own imports could account for
    assert children_cpu() - before >= 1.5


TWO_KINDS_CALLER = """
import json, os
from compbench.cli import main
from compbench.run import worker_process

given = []
original = worker_process.Worker.give
def give(worker, task):
    parent = int(open(f"/proc/{worker.process.pid}/stat").read().rsplit(")", 1)[1].split()[1])
    given.append([task.unit.spec.name, worker.plain, parent == os.getpid()])
    return original(worker, task)
worker_process.Worker.give = give
code = main(["run", "--codecs", "ddcae,jpeg", "--limit", "40", "--jobs", "2", "--out", "run", "--no-figures"])
print(json.dumps({"code": code, "given": given}))
"""


@pytest.mark.slow  # a fresh interpreter whose fork server loads PyTorch
def test_units_that_need_no_preload_run_on_workers_forked_while_the_server_imports(tmp_path):
    """ddcae preloads PyTorch through the fork server (seconds to import); jpeg needs nothing of
    it, so its units start at once on a worker forked from the run (one: the server's import
    has the other core), and ddcae's run on workers from the server once it is ready."""
    import json
    import subprocess
    import sys

    script = tmp_path / "caller.py"
    script.write_text(TWO_KINDS_CALLER)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr[-2000:]
    kinds = {(codec, plain, forked_here) for codec, plain, forked_here in report["given"]}
    assert kinds == {("jpeg", True, True), ("ddcae", False, False)}, report["given"]
    assert report["given"][0][0] == "jpeg"  # first, though ddcae comes first in the run's order


def test_a_run_keeps_of_a_large_sample_image_the_crop_the_figures_show():
    """A photograph's reconstruction comes back from its worker as the 192 x 192 crop of the
    original's most detailed region (the region Fig. 7 and the report show), not whole: 7 MB
    a setting for scikit-image's photographs otherwise, kept for every setting. The crop is
    the real reconstruction's, cut where the original's detail_box says; a small image (a
    digit) comes back whole."""
    from compbench.run.samples import CROP, crop, detail_box

    registry = build_registry()
    photos = api.run("jpeg:quality=40", dataset="skimage", limit=4, write=False, registry=registry)
    codec = registry.codec("jpeg").create(quality=40, subsampling="420")
    kept = photos.samples["jpeg:quality=40"]
    assert kept and len(kept) <= 4
    for row, reconstruction in kept.items():
        original = photos.data.images[row]
        assert max(original.shape[:2]) > CROP and reconstruction.shape[:2] == (CROP, CROP)
        whole = codec.decode(codec.encode(original))
        np.testing.assert_array_equal(reconstruction, crop(whole, detail_box(original)))
    digits = api.run("jpeg", limit=20, write=False, registry=registry)
    for row, reconstruction in digits.samples["jpeg:quality=75"].items():
        assert reconstruction.shape == digits.data.images[row].shape == (28, 28)


def test_forked_workers_inherit_the_runs_plugins_instead_of_loading_them_again(monkeypatch, tmp_path):
    """Loading the entry points costs a worker ~10 ms (each plugin's metadata parsed): a worker
    forked from the run takes the registry the run built; only the run builds one."""
    import compbench.contracts.registry as registry_module

    calls = tmp_path / "builds"
    real = registry_module.build_registry

    def counted(*args, **kwargs):
        with open(calls, "a") as file:
            file.write(f"{os.getpid()}\n")
        return real(*args, **kwargs)

    monkeypatch.setattr(registry_module, "build_registry", counted)
    monkeypatch.setattr("compbench.pipeline.plan.build_registry", counted)
    result = api.run("jpeg", limit=300, jobs=2, write=False)
    assert (result.records["error"] == "").all() and len(result.records) == 300
    assert set(calls.read_text().split()) == {str(os.getpid())}

"""The conformance kit: every built-in codec passes it, and each codec of the broken-codec zoo
fails the check its fault breaks, with a message naming what arrived.

The zoo's codecs that hang, segfault, abort or get SIGKILLed are for the runner's fault
isolation: the kit runs in-process, catches hangs with its time limit (tested below with a
codec of its own) and leaves process crashes to the runner by design.
"""

import functools
import re
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import KIT_HANG_BOUND, LazyImages, assert_every_check_passed, builtin_registry, skip_unless_ci

from compbench import AVAILABLE, Availability, Codec, CodecFactory, Param, load_dataset
from compbench.contracts.registry import build_registry
from compbench.testing import (
    CHECK_NAMES,
    DEFAULT_FIDELITY_FLOOR,
    CheckStatus,
    ConformanceError,
    check_codec,
    codec_checks,
    parametrize_codec_checks,
    sample_images,
)
from compbench.testing.checks import Kit

BUILTINS = [r.obj for r in sorted(builtin_registry().codecs.values(), key=lambda r: r.name)
            if r.provenance.distribution == "compbench"]


@functools.cache
def digits() -> np.ndarray:
    """What a learned MNIST codec is made for (the first 40 test digits cover every class)."""
    return np.stack(load_dataset("mnist", "test").read(range(40)))


#: built-in codec -> {check: why it is expected to fail}; none today
KNOWN_FAILURES: dict[str, dict[str, str]] = {}


@parametrize_codec_checks(
    BUILTINS,
    images=lambda factory: LazyImages(digits) if factory.sizes == ((28, 28),) else None,
    expected_failures=lambda factory: KNOWN_FAILURES.get(factory.name),
    time_limit=KIT_HANG_BOUND,
)
def test_builtin_codec_passes_the_kit(check):
    check()


@pytest.mark.parametrize("factory", BUILTINS, ids=lambda factory: factory.name)
def test_every_builtin_codec_runs_here(factory):
    """The kit skips the checks of a codec that is unavailable here: a fault of this machine
    (a missing system library) locally, a failure in CI."""
    status = factory.available()
    if not status.ok:
        skip_unless_ci(f"{factory.name} is not available: {status.reason} (fix: {status.fix})")


# -- the broken-codec zoo, check by check ------------------------------------------------------
#: zoo codec -> (the check its fault breaks, what the message must say)
ZOO_FAILS = {
    "zoo-zeros": ("check_fidelity", "span values 0..0"),
    "zoo-constant": ("check_fidelity", "span values 128..128"),
    "zoo-not-self-describing": ("check_fresh_instance", "a fresh instance (same settings, nothing else shared) "
                                "cannot decode what another encoded: decode of kit image"),
    "zoo-shape": ("check_round_trip", "returned uint8 (28, 27), expected uint8 (28, 28)"),
    "zoo-dtype": ("check_round_trip", "returned float32 (28, 28), expected uint8 (28, 28)"),
    "zoo-returns-list": ("check_round_trip", "returned list, expected a numpy array uint8 (28, 28)"),
    "zoo-str": ("check_encode_returns_bytes", "returned str, expected bytes"),
    "zoo-ndarray": ("check_encode_returns_bytes", "returned numpy.ndarray (uint32, shape"),
    "zoo-nondeterministic": ("check_deterministic", "gave different bytes"),
    "zoo-batch-differs": ("check_batch_independent", "encode_batch (batches of [6]) gave other bytes"),
    "zoo-bounds": ("check_param_bounds", "level=0"),
    "zoo-create-raises": ("check_create", "RuntimeError: zoo-create-raises cannot load its model"),
    "zoo-raises": ("check_round_trip", "raised ValueError: zoo-raises refuses this image"),
    "zoo-overwrites-metrics": ("check_extra_metrics", "['bpp', 'psnr'], which the harness measures itself"),
}
#: faults that kill or stall the process: the runner's business, not the kit's (zoo-slow, honest
#: but slow by design, outlasts the kit's time limit at its top bound)
PROCESS_FAULTS = {"zoo-hang", "zoo-segfault", "zoo-abort", "zoo-oom-kill", "zoo-slow"}


@pytest.fixture
def zoo(with_zoo):
    return {name: r.obj for name, r in build_registry().codecs.items() if name.startswith("zoo-")}


def test_the_zoo_is_covered(zoo):
    assert set(zoo) == set(ZOO_FAILS) | PROCESS_FAULTS | HONEST


#: the zoo codec that breaks no rule
HONEST = {"zoo-good"}


@pytest.mark.parametrize("name", sorted(HONEST))
def test_the_honest_zoo_codecs_pass(zoo, name):
    assert_every_check_passed(check_codec(zoo[name]))


@pytest.mark.parametrize("name", sorted(ZOO_FAILS))
def test_each_broken_zoo_codec_fails_the_check_its_fault_breaks(zoo, name):
    check, says = ZOO_FAILS[name]
    with pytest.raises(ConformanceError) as caught:
        check_codec(zoo[name])
    result = caught.value.report.status(check)
    assert result.status == "failed", caught.value.report
    assert says in result.message
    assert check in str(caught.value)  # the error names each failed check


def test_a_lossy_decoder_returning_zeros_or_a_constant_misses_the_floor_widely(zoo):
    for name in ("zoo-zeros", "zoo-constant"):
        lossy = type(zoo[name])(zoo[name].fault, "declared lossy")
        lossy.lossless = False
        for images in (None, digits()):
            with pytest.raises(ConformanceError) as caught:
                check_codec(lossy, images=images)
            message = caught.value.report.status("check_fidelity").message
            psnr = float(re.search(r"come back at ([\d.]+) dB", message).group(1))
            assert psnr < DEFAULT_FIDELITY_FLOOR - 8, message


def test_the_kit_images_catch_a_codec_that_fails_on_some_images(with_zoo):
    """zoo-raises fails about one image in 16: enough kit images reach it."""
    import compbench_zoo

    kit = Kit(build_registry().codec("zoo-raises"))
    struck = [g.describe(i) for g in kit.all_groups for i, image in enumerate(g.images)
              if compbench_zoo.unlucky(image)]
    assert struck


# -- running checks: expected failures, skips, time limits, pytest parameters ------------------
class EchoCodec(Codec):
    """Lossless: the raw pixels behind a shape header."""

    def encode(self, image):
        channels = image.shape[2] if image.ndim == 3 else 0
        return bytes([image.shape[0], image.shape[1], channels]) + image.tobytes()

    def decode(self, data):
        shape = (data[0], data[1], data[2]) if data[2] else (data[0], data[1])
        return np.frombuffer(data[3:], np.uint8).reshape(shape).copy()


class EchoFactory(CodecFactory):
    name = "echo"
    params = (Param("level", int, 1, "unused", low=0, high=9),)
    channels = (1, 3)
    lossless = True
    codec_class = EchoCodec


def test_a_correct_codec_passes_with_the_default_create():
    report = check_codec(EchoFactory())
    assert [r.status for r in report.results] == [CheckStatus.PASSED] * len(CHECK_NAMES)
    assert [r.name for r in report.results] == list(CHECK_NAMES)
    assert report.results[0].status == "passed" and f"{report.results[0].status}" == "passed"  # a str enum


def test_expected_failures_are_reported_and_go_stale_loudly(zoo):
    report = check_codec(zoo["zoo-batch-differs"],
                         expected_failures={"check_batch_independent": "batching adds a byte"})
    assert report.ok and report.status("check_batch_independent").status == "expected failure"
    with pytest.raises(ConformanceError, match="passed unexpectedly"):
        check_codec(EchoFactory(), expected_failures={"check_fidelity": "out of date"})
    with pytest.raises(ValueError, match="check_no_such_thing"):
        check_codec(EchoFactory(), expected_failures={"check_no_such_thing": "typo"})


class MissingLibraryFactory(EchoFactory):
    name = "needs-lib"

    def available(self):
        return Availability.missing_module("no_such_codec_library", "no-such-codec")


def test_an_unavailable_codec_is_skipped_with_the_reason():
    report = check_codec(MissingLibraryFactory())
    assert {r.status for r in report.results} == {"skipped"}
    assert "no_such_codec_library" in report.results[0].message
    assert "pip install no-such-codec" in report.results[0].message


def test_parametrize_marks_skips_and_strict_expected_failures():
    mark = parametrize_codec_checks(
        [MissingLibraryFactory(), EchoFactory()],
        expected_failures=lambda f: {"check_fidelity": "known"} if f.name == "echo" else None).mark
    params = {p.id: p for p in mark.args[1]}
    assert len(params) == 2 * len(CHECK_NAMES)
    skip = params["needs-lib-check_round_trip"].marks[0]
    assert skip.name == "skip" and "no_such_codec_library" in skip.kwargs["reason"]
    xfail = params["echo-check_fidelity"].marks[0]
    assert xfail.name == "xfail" and xfail.kwargs == {"strict": True, "reason": "known"}
    assert not params["echo-check_round_trip"].marks


class SleepyCodec(EchoCodec):
    def encode(self, image):
        time.sleep(3600)


class SleepyFactory(EchoFactory):
    name = "sleepy"
    codec_class = SleepyCodec


def test_a_hanging_codec_fails_on_the_time_limit():
    start = time.perf_counter()
    with pytest.raises(ConformanceError) as caught:
        check_codec(SleepyFactory(), time_limit=0.2)
    assert time.perf_counter() - start < 30
    message = caught.value.report.status("check_round_trip").message
    assert "took longer than 0.2 s" in message
    assert caught.value.report.status("check_declarations").status == "passed"


def test_check_codec_runs_without_pytest():
    script = ("import sys; sys.modules['pytest'] = None\n"
              "from compbench import check_codec\n"
              "from compbench_codecs.jpeg import JpegFactory\n"
              "print(check_codec(JpegFactory()))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"jpeg: {len(CHECK_NAMES)} passed"


def test_codec_checks_are_named_callables():
    checks = list(codec_checks(EchoFactory()))
    assert [c.__name__ for c in checks] == list(CHECK_NAMES)
    for check in checks:
        check()


# -- declarations and images -------------------------------------------------------------------
class BadDeclarations(EchoFactory):
    name = "bad"
    channels = (2,)
    rate_params = ("quality",)


class RefusesItsOwnSize(EchoFactory):
    name = "refuses"
    sizes = ((28, 28),)

    def not_applicable(self, shape):
        return "not today"


def test_bad_declarations_fail_with_what_is_wrong():
    with pytest.raises(ConformanceError) as caught:
        check_codec(BadDeclarations())
    assert "rate_params name ['quality']" in caught.value.report.status("check_declarations").message
    with pytest.raises(ConformanceError) as caught:
        check_codec(RefusesItsOwnSize())
    assert "not_applicable says: not today" in caught.value.report.status("check_declarations").message


def test_the_kit_tries_every_declared_shape_and_the_callers_images():
    kit = Kit(EchoFactory())
    assert [g.shape for g in kit.all_groups] == [(28, 28), (28, 28, 3), (7, 13), (7, 13, 3), (64, 48), (64, 48, 3)]
    # fidelity: the smooth kit images of every shape (noise and one-pixel patterns prove nothing
    # about a lossy codec's best setting: 4:2:0 chroma cannot hold them)
    assert [g.shape for g in kit.fidelity_groups] == [g.shape for g in kit.sample_groups]
    assert {g.names for g in kit.fidelity_groups} == {("blob", "gradient", "flat")}
    given = Kit(EchoFactory(), images=digits()[:5])
    assert [g.shape for g in given.all_groups] == [(28, 28), (28, 28), (28, 28, 3)]
    assert [g.origin for g in given.all_groups] == ["your", "kit", "kit"]
    assert [g.shape for g in given.fidelity_groups] == [(28, 28)] and given.fidelity_groups[0].origin == "your"


class BigOnly(EchoFactory):
    name = "big"
    min_side = 40


def test_sizes_respect_min_side():
    assert {g.shape[:2] for g in Kit(BigOnly()).all_groups} == {(64, 48)}


def test_caller_images_a_codec_cannot_take_fail_with_the_reason():
    class GrayOnly(EchoFactory):
        channels = (1,)

    rgb = sample_images((28, 28, 3))
    with pytest.raises(ConformanceError) as caught:
        check_codec(GrayOnly(), images=rgb)
    assert "RGB 28x28, which the codec does not take" in caught.value.report.status("check_round_trip").message


def test_sample_images_differ_per_colour_channel():
    rgb = sample_images((7, 13, 3))
    assert rgb.shape == (6, 7, 13, 3) and rgb.dtype == np.uint8
    for image in rgb:
        assert not np.array_equal(image[..., 0], image[..., 1])
    assert np.array_equal(sample_images((7, 13, 3)), rgb)  # deterministic


class NotACodecFactory(EchoFactory):
    name = "not-a-codec"

    def create(self, **settings):
        return [settings]


class NoCreate(CodecFactory):
    name = "no-create"

    def available(self):
        return AVAILABLE


def test_create_must_return_a_codec():
    with pytest.raises(ConformanceError) as caught:
        check_codec(NotACodecFactory())
    assert "returned list, expected a compbench.Codec" in caught.value.report.status("check_create").message
    with pytest.raises(ConformanceError) as caught:
        check_codec(NoCreate())
    assert "sets neither codec_class nor create()" in caught.value.report.status("check_create").message

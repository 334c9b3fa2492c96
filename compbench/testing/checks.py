"""The conformance checks: small and named, each one rule of the codec contract.

Every check takes a :class:`Kit` (the factory, its images and what is worth computing once) and
raises AssertionError with a message that says what arrived and what was expected.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from functools import cached_property
from typing import Any

import numpy as np

from ..contracts.codec import Codec, CodecFactory
from ..contracts.errors import CompbenchError
from ..contracts.params import Param
from ..metrics import Metric
from ..metrics.measure import psnr_from_mse
from ..run.spec import CodecSpec, make_spec
from .images import ImageGroup, declared_shapes, describe_shape, group_images, kit_groups, smooth_groups

#: below this pooled PSNR (dB) a lossy codec's best setting fails, unless it declares its own
#: ``fidelity_floor``: JPEG at quality 95 reaches 47 dB on the kit's images and DDCAE 21.6 dB on
#: the first 40 MNIST test digits, while a decoder returning zeros or a constant reaches 4-11 dB.
DEFAULT_FIDELITY_FLOOR = 20.0


def harness_metric_names() -> set[str]:
    """Metric names the harness computes itself: a codec's extra metrics must not take them."""
    from ..metrics import CORE_NAMES

    return set(CORE_NAMES)


class Kit:
    """One factory under test, its images, and results worth computing once (the best setting)."""

    def __init__(self, factory: CodecFactory, images=None) -> None:
        self.factory = factory
        self.given = images

    # -- images -----------------------------------------------------------------------------
    @cached_property
    def caller_groups(self) -> list[ImageGroup]:
        """The images the caller passed, by shape; each shape must be one the codec takes."""
        groups = [] if self.given is None else group_images(self.given)
        for group in groups:
            reason = self.factory.not_applicable(group.shape)
            if reason:
                raise AssertionError(f"the images passed to the kit include {describe_shape(group.shape)}, "
                                     f"which the codec does not take: {reason}")
        return groups

    @cached_property
    def shapes(self) -> list[tuple[int, ...]]:
        f = self.factory
        given_sizes = [group.shape[:2] for group in self.caller_groups]
        return declared_shapes(f.channels, f.sizes, f.min_side, given_sizes)

    @cached_property
    def sample_groups(self) -> list[ImageGroup]:
        return kit_groups(self.shapes, lambda shape: self.factory.not_applicable(shape) is None)

    @cached_property
    def all_groups(self) -> list[ImageGroup]:
        """The caller's images, then the kit's samples of every declared shape."""
        return self.caller_groups + self.sample_groups

    @cached_property
    def fidelity_groups(self) -> list[ImageGroup]:
        """What fidelity is measured on: the caller's images if given, else the kit's smooth ones."""
        return self.caller_groups or smooth_groups(self.sample_groups)

    # -- codecs -----------------------------------------------------------------------------
    def spec(self, given: dict | None = None) -> CodecSpec:
        return make_spec(self.factory, dict(given or {}))

    def create(self, spec: CodecSpec | None = None) -> Codec:
        spec = spec or self.spec()
        codec = attempt(f"create() at {spec.label}", self.factory.create, **spec.kwargs)
        if not isinstance(codec, Codec):
            raise AssertionError(f"create() at {spec.label} returned {describe(codec)}, expected a "
                                 "compbench.Codec instance")
        return codec

    def candidates(self) -> list[CodecSpec]:
        """Settings the best one is chosen from: the declared best, else the defaults and every
        ladder point."""
        if self.factory.best_setting is not None:
            return [self.spec(self.factory.best_setting)]
        specs = [self.spec()] + [self.spec(point) for point in self.factory.ladder]
        return list({spec.label: spec for spec in specs}.values())

    @cached_property
    def best(self) -> tuple[CodecSpec, list[Fidelity]]:
        """The setting of highest fidelity on the fidelity images, and its fidelity per group."""
        scored, problems = [], []
        for spec in self.candidates():
            try:
                codec = self.create(spec)
                fidelities = [Fidelity(group, round_trip(codec, group)) for group in self.fidelity_groups]
            except AssertionError as exc:
                problems.append(str(exc))
                continue
            scored.append((min(f.psnr for f in fidelities), spec, fidelities))
        if not scored:
            raise AssertionError(problems[0])
        _, spec, fidelities = max(scored, key=lambda item: item[0])
        return spec, fidelities

    def best_label(self) -> str:
        spec = self.best[0]
        if self.factory.best_setting is not None:
            return f"{spec.label} (its declared best_setting)"
        count = len(self.candidates())
        return spec.label if count == 1 else f"{spec.label} (the best of {count} settings: defaults and ladder)"

    @property
    def floor(self) -> float:
        floor = self.factory.fidelity_floor
        return DEFAULT_FIDELITY_FLOOR if floor is None else float(floor)


# -- calling the codec, with messages that name what arrived ----------------------------------
def describe(value: Any) -> str:
    """'float32 (28, 27)' for an array, else the type's name ('list', 'numpy.float64')."""
    if isinstance(value, np.ndarray):
        return f"{value.dtype} {value.shape}"
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def attempt(what: str, function: Callable, *args, **kwargs):
    """Call a plugin function; an exception becomes an AssertionError naming the call."""
    try:
        return function(*args, **kwargs)
    except AssertionError:
        raise
    except Exception as exc:
        raise AssertionError(f"{what} raised {type(exc).__name__}: {one_line(exc)}") from exc


def one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else "(no message)"


def as_bitstream(data: Any, what: str) -> bytes:
    """The bytes ``encode`` returned, or an AssertionError naming the type that arrived."""
    if isinstance(data, memoryview) and data.nbytes == len(data):
        data = data.tobytes()
    if isinstance(data, (bytes, bytearray)):
        if not data:
            raise AssertionError(f"{what} returned 0 bytes; a bitstream carries at least the image's shape")
        return bytes(data)
    if isinstance(data, np.ndarray):
        raise AssertionError(
            f"{what} returned numpy.ndarray ({data.dtype}, shape {data.shape}), expected bytes; len() of it "
            f"counts {len(data)} items, not its {data.nbytes} bytes: return array.tobytes()")
    if isinstance(data, memoryview):
        raise AssertionError(f"{what} returned a memoryview of {len(data)} items of {data.itemsize} bytes, "
                             "expected bytes: return .tobytes()")
    hint = "; return the bitstream as bytes, not text" if isinstance(data, str) else ""
    raise AssertionError(f"{what} returned {describe(data)}, expected bytes{hint}")


def check_image(decoded: Any, original: np.ndarray, what: str) -> np.ndarray:
    """``decoded`` is a uint8 array of the original's shape, or an AssertionError saying what it is."""
    expected = f"uint8 {original.shape}"
    if not isinstance(decoded, np.ndarray):
        raise AssertionError(f"{what} returned {describe(decoded)}, expected a numpy array {expected}")
    if decoded.dtype != np.uint8 or decoded.shape != original.shape:
        raise AssertionError(f"{what} returned {decoded.dtype} {decoded.shape}, expected {expected}")
    return decoded


def encode_group(codec: Codec, group: ImageGroup) -> list[bytes]:
    return [as_bitstream(attempt(f"encode of {group.describe(i)}", codec.encode, image),
                         f"encode of {group.describe(i)}")
            for i, image in enumerate(group.images)]


def decode_group(codec: Codec, group: ImageGroup, blobs: list[bytes], order=None) -> np.ndarray:
    order = range(len(blobs)) if order is None else order
    decoded = [None] * len(blobs)
    for i in order:
        what = f"decode of {group.describe(i)}"
        decoded[i] = check_image(attempt(what, codec.decode, blobs[i]), group.images[i], what)
    return np.stack(decoded)


def round_trip(codec: Codec, group: ImageGroup) -> np.ndarray:
    return decode_group(codec, group, encode_group(codec, group))


class Fidelity:
    """How closely reconstructions of a group match it: pooled PSNR and the worst error."""

    def __init__(self, group: ImageGroup, reconstructions: np.ndarray) -> None:
        error = reconstructions.astype(np.int16) - group.images.astype(np.int16)
        self.group = group
        self.psnr = float(psnr_from_mse(np.mean(error.astype(np.float64) ** 2)))
        self.max_error = int(np.abs(error).max())
        self.wrong = int(np.count_nonzero(error))
        self.low, self.high = int(reconstructions.min()), int(reconstructions.max())



# -- the checks -----------------------------------------------------------------------------
def check_declarations(kit: Kit) -> None:
    """Names, parameters, ladder, best setting, shapes, floor and metrics are well formed, the
    factory pickles (worker processes receive it), and it takes every shape it declares."""
    f = kit.factory
    assert isinstance(f.name, str) and f.name, f"name is {f.name!r}; give the codec a name"
    for param in f.params:
        assert isinstance(param, Param), f"params holds {describe(param)}, expected compbench.Param"
    names = [p.name for p in f.params]
    assert len(names) == len(set(names)), f"duplicate parameter names: {names}"
    for param in f.params:
        if param.default is not None:
            attempt(f"the default {param.name}={param.default!r}", param.check, param.default, f.name)
    unknown = sorted(set(f.rate_params) - set(names))
    assert not unknown, f"rate_params name {unknown}, which are not parameters ({names})"
    for point in f.ladder:
        attempt(f"ladder point {point}", make_spec, f, dict(point))
    if f.best_setting is not None:
        attempt(f"best_setting {f.best_setting}", make_spec, f, dict(f.best_setting))
    assert f.channels and set(f.channels) <= {1, 3}, \
        f"channels is {f.channels!r}; images are gray (1) or RGB (3): give (1,), (3,) or (1, 3)"
    assert isinstance(f.min_side, int) and f.min_side >= 1, f"min_side is {f.min_side!r}, expected an int >= 1"
    for size in f.sizes or ():
        ok = len(size) == 2 and all(isinstance(s, int) and s >= f.min_side for s in size)
        assert ok, f"sizes holds {size!r}; give (height, width) pairs of ints >= min_side ({f.min_side})"
    for shape in kit.shapes:
        reason = f.not_applicable(shape)
        assert reason is None, f"the codec declares {describe_shape(shape)} images but not_applicable says: {reason}"
    assert isinstance(f.lossless, bool), f"lossless is {f.lossless!r}, expected True or False"
    floor = f.fidelity_floor
    assert floor is None or (isinstance(floor, (int, float)) and floor > 0), \
        f"fidelity_floor is {floor!r}, expected a PSNR in dB (> 0) or None"
    core = harness_metric_names()
    for metric in f.metrics:
        assert isinstance(metric, Metric), f"metrics holds {describe(metric)}, expected compbench.Metric"
        assert metric.name not in core, \
            f"declared metric {metric.name!r} is one the harness computes itself; give it another name"
    attempt("pickling the factory (worker processes receive it)", pickle.dumps, f)


def check_create(kit: Kit) -> None:
    """create() at the defaults returns a Codec."""
    kit.create()


def check_encode_returns_bytes(kit: Kit) -> None:
    """encode returns non-empty bytes (bytes, bytearray or a byte memoryview), never text or an
    array: the harness counts len() of it as the bitstream's size."""
    codec = kit.create()
    for group in kit.all_groups:
        encode_group(codec, group)


def check_round_trip(kit: Kit) -> None:
    """Every image of every declared shape encodes and decodes to a uint8 array of its shape."""
    codec = kit.create()
    for group in kit.all_groups:
        round_trip(codec, group)


def check_fidelity(kit: Kit) -> None:
    """At the best setting the reconstructions are close to the inputs: exact for a lossless
    codec, else a pooled PSNR of at least ``fidelity_floor`` on each shape's images."""
    _, fidelities = kit.best
    for result in fidelities:
        _assert_faithful(kit, result, "")


def _assert_faithful(kit: Kit, result: Fidelity, how: str) -> None:
    group, label = result.group, kit.best_label()
    span = f"reconstructions span values {result.low}..{result.high}"
    if kit.factory.lossless:
        assert result.wrong == 0, (
            f"the factory declares lossless=True, but at {label}{how} {group.describe()} come back with "
            f"{result.wrong} of {group.images.size} samples wrong (max error {result.max_error}; {span})")
    elif result.psnr < kit.floor:
        raise AssertionError(
            f"at {label}{how} {group.describe()} come back at {result.psnr:.1f} dB PSNR (pooled), below the "
            f"floor of {kit.floor:g} dB (fidelity_floor); {span}: does decode use the bytes?")


def check_fresh_instance(kit: Kit) -> None:
    """Bytes from one instance decode with a newly created one (nothing shared but the settings,
    decoded in reverse order) to the encoder's own reconstruction, close to the input."""
    spec, _ = kit.best
    encoder, decoder = kit.create(spec), kit.create(spec)
    for group in kit.fidelity_groups:
        blobs = encode_group(encoder, group)
        try:
            fresh = decode_group(decoder, group, blobs, order=reversed(range(len(blobs))))
        except AssertionError as exc:
            raise AssertionError(f"a fresh instance (same settings, nothing else shared) cannot decode "
                                 f"what another encoded: {exc}") from exc
        _assert_faithful(kit, Fidelity(group, fresh), ", decoded by a fresh instance,")
        own = decode_group(encoder, group, blobs)
        differs = [i for i in range(len(blobs)) if not np.array_equal(own[i], fresh[i])]
        assert not differs, (f"a fresh instance decodes {group.describe(differs[0])} differently from the "
                             "instance that encoded it: the decoder depends on state left by encode")


def check_deterministic(kit: Kit) -> None:
    """The same image gives the same bytes, from the same instance and from another one."""
    first, second = kit.create(), kit.create()
    for group in kit.all_groups:
        once, twice, other = encode_group(first, group), encode_group(first, group), encode_group(second, group)
        for i in range(len(once)):
            for again, how in ((twice, "twice"), (other, "with two instances")):
                assert once[i] == again[i], (
                    f"encoding {group.describe(i)} {how} gave different bytes ({len(once[i])} vs "
                    f"{len(again[i])} bytes, first difference at byte {_first_difference(once[i], again[i])})")


def _first_difference(a: bytes, b: bytes) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def check_batch_independent(kit: Kit) -> None:
    """encode_batch/decode_batch give what encode/decode give, whatever the batch: all images of
    a shape at once, one at a time, or in two halves."""
    codec = kit.create()
    for group in kit.all_groups:
        images = list(group.images)
        single = encode_group(codec, group)
        half = len(images) // 2 or 1
        for batches in ([images], [images[:half], images[half:]]):
            blobs = []
            for batch in filter(len, batches):
                out = attempt(f"encode_batch of {len(batch)} {describe_shape(group.shape)} images",
                              codec.encode_batch, batch)
                blobs += [as_bitstream(b, "encode_batch") for b in _as_list(out, len(batch), "encode_batch")]
            for i, (got, want) in enumerate(zip(blobs, single)):
                assert got == want, (f"encode_batch (batches of {[len(b) for b in batches]}) gave other bytes "
                                     f"than encode for {group.describe(i)}: {len(got)} vs {len(want)} bytes")
        decoded = attempt(f"decode_batch of {len(single)} bitstreams", codec.decode_batch, single)
        one_by_one = decode_group(codec, group, single)
        for i, image in enumerate(_as_list(decoded, len(single), "decode_batch")):
            check_image(image, group.images[i], f"decode_batch of {group.describe(i)}")
            assert np.array_equal(image, one_by_one[i]), \
                f"decode_batch gave another image than decode for {group.describe(i)}"


def _as_list(out: Any, count: int, what: str) -> list:
    try:
        items = list(out)
    except TypeError:
        raise AssertionError(f"{what} returned {describe(out)}, expected a list of {count}") from None
    assert len(items) == count, f"{what} returned {len(items)} items for {count} inputs"
    return items


def check_overhead_bytes(kit: Kit) -> None:
    """overhead_bytes(shape) is an int between 0 and the smallest bitstream of that shape."""
    codec = kit.create()
    for group in kit.all_groups:
        overhead = attempt(f"overhead_bytes{group.shape}", codec.overhead_bytes, group.shape)
        assert isinstance(overhead, (int, np.integer)) and not isinstance(overhead, bool), \
            f"overhead_bytes{group.shape} returned {describe(overhead)}, expected an int"
        smallest = min(len(blob) for blob in encode_group(codec, group))
        assert 0 <= overhead <= smallest, (f"overhead_bytes{group.shape} is {overhead}, outside 0..{smallest} "
                                           f"(the smallest bitstream of {group.describe()})")


def check_extra_metrics(kit: Kit) -> None:
    """extra_metrics gives one number per image for declared names only, never a name the
    harness computes itself (a codec cannot report its own PSNR or bpp)."""
    codec = kit.create()
    core = harness_metric_names()
    declared = {metric.name for metric in kit.factory.metrics}
    for group in kit.fidelity_groups:
        extras = attempt(f"extra_metrics of {group.describe()}", codec.extra_metrics, group.images)
        assert isinstance(extras, dict), f"extra_metrics returned {describe(extras)}, expected a dict"
        taken = sorted(set(extras) & core)
        assert not taken, (f"extra_metrics reports {taken}, which the harness measures itself; a codec "
                           "reports only metrics it alone can know, under names of its own")
        undeclared = sorted(set(extras) - declared)
        assert not undeclared, (f"extra_metrics reports {undeclared}, which the factory does not declare; "
                                "add a compbench.Metric for each to the factory's metrics")
        for name, values in extras.items():
            array = np.asarray(values)
            got = describe(values) if isinstance(values, np.ndarray) else f"{describe(values)} {np.shape(values)}"
            assert array.shape == (len(group.images),) and np.issubdtype(array.dtype, np.number), \
                f"extra_metrics[{name!r}] is {got}, expected {len(group.images)} numbers (one per image)"


def check_unknown_param_refused(kit: Kit) -> None:
    """An unknown parameter is refused with a CompbenchError naming it."""
    _assert_refused(kit, {"no_such_parameter": "1"}, "no_such_parameter", "an unknown parameter")


def check_param_bounds(kit: Kit) -> None:
    """Every numeric parameter at its low and high bound (and every choice) creates a codec that
    round-trips an image of each shape; just outside a bound is refused with a CompbenchError
    naming the parameter."""
    probes = [ImageGroup(g.images[:1], g.names[:1], g.origin) for g in kit.all_groups]
    for param in kit.factory.params:
        for value, where in _bound_values(param):
            spec = attempt(f"{param.name}={value!r} ({where})", kit.spec, {param.name: value})
            codec = kit.create(spec)
            for group in probes:
                try:
                    round_trip(codec, group)
                except AssertionError as exc:
                    raise AssertionError(f"at {param.name}={value!r} ({where}): {exc}") from exc
        for value, where in _outside_values(param):
            _assert_refused(kit, {param.name: value}, param.name, f"{param.name}={value!r} ({where})")


def _bound_values(param: Param) -> list[tuple[Any, str]]:
    if param.choices:
        return [(choice, "a declared choice") for choice in param.choices]
    if param.kind is bool:
        return [(False, "bool"), (True, "bool")]
    values = [(param.low, "its low bound"), (param.high, "its high bound")]
    return [(param.kind(v), where) for v, where in values if v is not None and param.kind in (int, float)]


def _outside_values(param: Param) -> list[tuple[Any, str]]:
    if param.kind not in (int, float) or param.choices:
        return []
    out = []
    if param.low is not None:
        below = param.low - 1 if param.kind is int else math.nextafter(param.low, -math.inf)
        out.append((param.kind(below), "just below its low bound"))
    if param.high is not None:
        above = param.high + 1 if param.kind is int else math.nextafter(param.high, math.inf)
        out.append((param.kind(above), "just above its high bound"))
    return out


def _assert_refused(kit: Kit, given: dict, name: str, what: str) -> None:
    try:
        kit.spec(given)
    except CompbenchError as exc:
        assert name in str(exc), f"{what} was refused, but the message does not name {name!r}: {exc}"
    except Exception as exc:
        raise AssertionError(f"{what} raised {type(exc).__name__} ({one_line(exc)}), expected a "
                             f"CompbenchError naming {name!r}") from exc
    else:
        raise AssertionError(f"{what} was accepted; it must be refused with a CompbenchError")


#: every check, in the order they run
CHECKS = (
    check_declarations, check_create, check_encode_returns_bytes, check_round_trip, check_fidelity,
    check_fresh_instance, check_deterministic, check_batch_independent, check_overhead_bytes,
    check_extra_metrics, check_unknown_param_refused, check_param_bounds,
)

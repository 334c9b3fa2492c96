"""Running codecs over images: work units, worker processes, timing and fault isolation.

A work unit is (codec setting, slice of images). Units run in forked worker processes (the
images are inherited, not pickled) or in-process with ``jobs=1``. The one place that times
encode and decode is :func:`run_unit`. A codec that raises costs only the images it failed
on; a worker that crashes costs only its own unit (found by re-running the survivors one by
one in fresh processes).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np

from ..contracts.codec import Codec, CodecFactory
from .metric_set import empty_columns, measure_unit
from .spec import CodecSpec


@dataclass(frozen=True)
class WorkUnit:
    spec: CodecSpec
    factory: CodecFactory
    start: int
    stop: int


@dataclass
class UnitResult:
    """Per-image metric columns for one unit, errors (position -> message), and the
    reconstructions of the requested sample positions (for figure grids)."""

    unit: WorkUnit
    pixels: int  # per image (H * W), for pooled bpp
    metrics: dict[str, np.ndarray]
    errors: dict[int, str] = field(default_factory=dict)
    samples: dict[int, np.ndarray] = field(default_factory=dict)
    #: position -> {panel name: image} from Codec.figure_panels, for the sample positions
    panels: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)

    @property
    def positions(self) -> np.ndarray:
        return np.arange(self.unit.start, self.unit.stop)


def plan_units(specs_and_factories, count: int, jobs: int, chunk: int | None = None) -> list[WorkUnit]:
    """Slice the images so each codec has a few units per worker (load balance) but units
    stay large enough for batched codecs."""
    if chunk is None:
        chunk = int(np.clip(np.ceil(count / (4 * max(jobs, 1))), 64, 2500))
    return [
        WorkUnit(spec, factory, start, min(start + chunk, count))
        for spec, factory in specs_and_factories
        for start in range(0, count, chunk)
    ]


# Worker-process state: the images (inherited through fork) and built codecs (one per setting).
_IMAGES: np.ndarray | None = None
_SAMPLE_POSITIONS: frozenset[int] = frozenset()
_CODECS: dict[CodecSpec, Codec] = {}


def _codec_for(unit: WorkUnit) -> Codec:
    if unit.spec not in _CODECS:
        _CODECS[unit.spec] = unit.factory.create(**unit.spec.kwargs)
    return _CODECS[unit.spec]


def run_unit(unit: WorkUnit) -> UnitResult:
    """Encode and decode one unit's images; time both; compute the metrics."""
    images = _IMAGES[unit.start : unit.stop]
    n = len(images)
    try:
        codec = _codec_for(unit)
    except Exception as exc:
        return _all_failed(unit, f"codec setup failed: {_one_line(exc)}")

    blobs, errors, encode_s = _timed_batch(codec.encode_batch, codec.encode, list(images), "encode")
    encoded = [i for i in range(n) if i not in errors]
    decoded, decode_errors, decode_s = _timed_batch(
        codec.decode_batch, codec.decode, [blobs[i] for i in encoded], "decode")
    reconstructions = np.zeros_like(images)
    for k, i in enumerate(encoded):
        problem = decode_errors.get(k) or _check_reconstruction(images[i], decoded[k])
        if problem:
            errors[i] = problem
        else:
            reconstructions[i] = decoded[k]

    good = np.array([i for i in range(n) if i not in errors], dtype=int)
    columns = measure_unit(codec, images, reconstructions, good, [len(blobs[i]) for i in good],
                           encode_s, decode_s)
    sampled = [i for i in good if unit.start + i in _SAMPLE_POSITIONS]
    samples = {unit.start + i: reconstructions[i] for i in sampled}
    errors = {unit.start + i: message for i, message in errors.items()}
    return UnitResult(unit, _pixels(images), columns, errors, samples,
                      _figure_panels(codec, images, sampled, unit.start))


def _timed_batch(batch_fn, single_fn, items: list, what: str):
    """Run the batch method, timed; if it raises, fall back to one item at a time so that
    only the failing items are lost.

    Returns (outputs aligned with items, None where failed), {index: error}, seconds per item.
    """
    if not items:
        return [], {}, np.nan
    start = time.perf_counter()
    try:
        outputs = list(batch_fn(items))
        if len(outputs) == len(items):
            return outputs, {}, (time.perf_counter() - start) / len(items)
    except Exception:
        pass
    outputs, errors, elapsed = [], {}, 0.0
    for index, item in enumerate(items):
        start = time.perf_counter()
        try:
            outputs.append(single_fn(item))
        except Exception as exc:
            outputs.append(None)
            errors[index] = f"{what} failed: {_one_line(exc)}"
        elapsed += time.perf_counter() - start
    return outputs, errors, elapsed / len(items)


def _check_reconstruction(original: np.ndarray, image) -> str | None:
    if not isinstance(image, np.ndarray):
        return f"decode returned {type(image).__name__}, expected a numpy array"
    if image.shape != original.shape or image.dtype != original.dtype:
        return (f"decode returned {image.dtype} {image.shape}, expected "
                f"{original.dtype} {original.shape}")
    return None


def _figure_panels(codec: Codec, images: np.ndarray, sampled: list[int], start: int) -> dict:
    if not sampled:
        return {}
    try:
        panels = codec.figure_panels(images[sampled])
    except Exception:  # illustrations are optional: never cost the measurements
        return {}
    return {start + i: {name: np.asarray(stack[k]) for name, stack in panels.items()}
            for k, i in enumerate(sampled)}


def _all_failed(unit: WorkUnit, message: str) -> UnitResult:
    n = unit.stop - unit.start
    columns = empty_columns(n)
    return UnitResult(unit, _pixels(_IMAGES), columns, {unit.start + i: message for i in range(n)})


def _pixels(images: np.ndarray) -> int:
    return int(images.shape[1] * images.shape[2])


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def execute(
    units: list[WorkUnit],
    images: np.ndarray,
    jobs: int = 1,
    sample_positions: frozenset[int] = frozenset(),
    on_result: Callable[[UnitResult], None] = lambda result: None,
) -> list[UnitResult]:
    """Run every unit; call ``on_result`` as each finishes (to persist it at once)."""
    global _IMAGES, _SAMPLE_POSITIONS
    _IMAGES, _SAMPLE_POSITIONS = images, sample_positions
    _CODECS.clear()
    results: list[UnitResult] = []

    def collect(result: UnitResult) -> None:
        results.append(result)
        on_result(result)

    if jobs <= 1:
        for unit in units:
            collect(run_unit(unit))
        return results
    unfinished = _run_pool(units, jobs, collect)
    # A worker died (segfault, abort, OOM kill): re-run what did not finish one unit per fresh
    # process, so a crash is pinned on the unit that caused it and the rest still complete.
    for unit in unfinished:
        if _run_pool([unit], 1, collect):
            collect(_all_failed(unit, "worker process crashed while running this codec"))
    return results


def _run_pool(units: list[WorkUnit], jobs: int, collect) -> list[WorkUnit]:
    """Run units on a pool of forked workers; return the units lost to a crashed worker."""
    context = multiprocessing.get_context("fork")
    pending: dict = {}
    remaining = list(units)
    lost: list[WorkUnit] = []
    with ProcessPoolExecutor(max_workers=min(jobs, len(units)), mp_context=context,
                             initializer=_worker_init) as pool:
        # Keep only a few units in flight so results stream back (and persist) in order.
        while remaining or pending:
            while remaining and len(pending) < 2 * jobs:
                unit = remaining.pop(0)
                pending[pool.submit(run_unit, unit)] = unit
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                unit = pending.pop(future)
                try:
                    collect(future.result())
                except BrokenProcessPool:
                    lost.append(unit)
            if lost:  # the pool is dead: everything not yet finished is lost with it
                for future, unit in pending.items():
                    if future.done() and future.exception() is None:
                        collect(future.result())
                    else:
                        lost.append(unit)
                return lost + remaining
    return []


def _worker_init() -> None:
    # Each worker is one of `jobs` processes: keep numerical libraries (torch, OpenBLAS) from
    # starting a thread per core in every worker. Read when they are first imported.
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"

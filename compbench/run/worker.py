"""The worker side of a run: one work unit (or part of one) through a codec, in whatever process
an executor gives it.

Faults a codec raises cost only the images they strike: a batch call that raises is redone
image by image; a bitstream that is not bytes, or a reconstruction of the wrong type, shape or
dtype, is an error on that image. ``report(stage, position, count)`` is called before each step
so that the executor, which watches from outside, knows what a worker that hangs or dies was
doing: with ``single=True`` every codec call takes one image, so a crash or a hang names it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from ..contracts.codec import Codec
from ..metrics import CORE_NAMES, METRIC_ERROR, MetricSet, add_note, guarded_column
from .samples import crop, detail_box
from .spec import CodecSpec
from .units import DataRef, UnitResult, WorkUnit


class Stage(StrEnum):
    """What a worker is doing, as it reports it (the text is what a lost image's error says:
    "worker killed by signal 11 (SIGSEGV) while encoding")."""

    STARTING = "starting"
    READING = "reading the images"
    CREATING = "creating the codec"
    ENCODING = "encoding"
    DECODING = "decoding"
    MEASURING = "measuring"
    PANELS = "drawing figure panels"

    @property
    def setup(self) -> bool:
        """Before any image: executors give these stages a setup time limit."""
        return self in (Stage.STARTING, Stage.READING, Stage.CREATING)


Report = Callable[[Stage, "int | None", int], None]
#: error prefixes for the codec calls made per image
VERB = {Stage.ENCODING: "encode", Stage.DECODING: "decode"}


def _no_report(stage: Stage, position: int | None, count: int) -> None:
    pass


class WorkerState:
    """What one worker keeps between units: the registry (built once, here, unless one is
    given), the run's metrics (given, or core + plugin + the codec's own), opened dataset sources,
    built codecs and the sample images' crop regions."""

    def __init__(self, registry=None, metrics: MetricSet | None = None) -> None:
        self._registry = registry
        self._metrics = metrics
        self._codec_metrics: dict[str, MetricSet] = {}
        self._sources: dict[DataRef, object] = {}
        self._codecs: dict[CodecSpec, Codec] = {}
        self._boxes: dict[tuple[DataRef, int], tuple[int, int, int, int]] = {}

    def metrics(self, spec: CodecSpec) -> MetricSet:
        if self._metrics is not None:
            return self._metrics
        if spec.name not in self._codec_metrics:
            factory = self.registry.codec(spec.name)
            self._codec_metrics[spec.name] = MetricSet.for_run(self.registry, [factory])
        return self._codec_metrics[spec.name]

    @property
    def registry(self):
        if self._registry is None:
            from ..contracts.registry import build_registry

            self._registry = build_registry()
        return self._registry

    def read(self, data: DataRef, positions: Sequence[int]) -> list[np.ndarray]:
        if data not in self._sources:
            self._sources[data] = self.registry.dataset(data.dataset).open(data.split, **data.kwargs)
        return self._sources[data].read(list(positions))

    def sample_crop(self, data: DataRef, position: int, original: np.ndarray, reconstruction: np.ndarray) -> np.ndarray:
        """What the run keeps of a sample image's reconstruction: its crop of the original's most
        detailed region (:mod:`.samples`; found once per image, not once per setting)."""
        key = (data, position)
        if key not in self._boxes:
            self._boxes[key] = detail_box(original)
        return np.ascontiguousarray(crop(reconstruction, self._boxes[key]))

    def has_codec(self, spec: CodecSpec) -> bool:
        return spec in self._codecs

    def codec(self, spec: CodecSpec) -> Codec:
        if spec not in self._codecs:
            self._codecs[spec] = self.registry.codec(spec.name).create(**spec.kwargs)
        return self._codecs[spec]


@dataclass
class _Piece:
    """The images of one call of :func:`run_piece`, and what befell them so far."""

    unit: WorkUnit
    positions: tuple[int, ...]
    single: bool
    report: Report
    #: row -> why that image failed
    errors: dict[int, str] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.positions)

    def good(self) -> list[int]:
        return [i for i in range(self.n) if i not in self.errors]

    def groups(self, rows: list[int]) -> list[list[int]]:
        """Rows in the calls a step makes: one each when ``single``, else one call for all."""
        return [[i] for i in rows] if self.single else ([rows] if rows else [])

    def report_rows(self, stage: Stage, rows: list[int]) -> None:
        self.report(stage, self.positions[rows[0]] if len(rows) == 1 else None, len(rows))


def run_piece(state: WorkerState, unit: WorkUnit, positions: Sequence[int] | None = None,
              single: bool = False, report: Report = _no_report) -> UnitResult:
    """Encode, decode and measure ``positions`` of ``unit`` (default: all of them)."""
    piece = _Piece(unit, tuple(unit.positions if positions is None else positions), single, report)
    ready = _set_up(state, piece)
    if isinstance(ready, UnitResult):
        return ready
    images, codec = ready
    nbytes, reconstructions, encode_s, decode_s = _code(piece, codec, images)
    columns, notes = _measure_all(piece, state.metrics(unit.spec), codec, images, reconstructions, nbytes)
    columns["encode_s"][:] = encode_s
    columns["decode_s"][:] = decode_s
    wanted = set(unit.samples)
    sampled = [i for i in piece.good() if piece.positions[i] in wanted]
    samples = {piece.positions[i]: state.sample_crop(unit.data, piece.positions[i], images[i], reconstructions[i])
               for i in sampled}
    panels: dict[int, dict[str, np.ndarray]] = {}
    for rows in piece.groups(sampled):
        piece.report_rows(Stage.PANELS, rows)
        panels.update(figure_panels(codec, images[rows], [piece.positions[i] for i in rows]))
    errors_by_position = {piece.positions[i]: message for i, message in piece.errors.items()}
    return UnitResult(unit, piece.positions, columns, errors_by_position, samples, panels, tuple(notes))


def _set_up(state: WorkerState, piece: _Piece) -> tuple[np.ndarray, Codec] | UnitResult:
    """The piece's images and its codec, or the result of a piece that failed to set up."""
    unit, positions = piece.unit, piece.positions
    piece.report(Stage.READING, None, piece.n)
    try:
        images = np.stack(state.read(unit.data, positions))
    except Exception as exc:
        return UnitResult.failed(unit, positions, f"reading the images failed: {one_line(exc)}")
    if images.dtype != np.uint8 or images.shape[1:] != tuple(unit.shape):
        return UnitResult.failed(unit, positions, f"the dataset gave {images.dtype} images of shape "
                                 f"{images.shape[1:]}, expected uint8 {tuple(unit.shape)}")
    if not state.has_codec(unit.spec):
        piece.report(Stage.CREATING, None, piece.n)
    try:
        return images, state.codec(unit.spec)
    except Exception as exc:
        message = f"codec setup failed: {one_line(exc)}"
        return UnitResult.failed(unit, positions, message, setup_error=message)


def _code(piece: _Piece, codec: Codec, images: np.ndarray):
    """Encode and decode the images: the byte counts, the reconstructions, the seconds per
    image of each; an image whose bitstream or reconstruction is wrong fails."""
    n, errors = piece.n, piece.errors
    blobs, encode_s = _calls(codec.encode_batch, codec.encode, list(images), piece, Stage.ENCODING, errors)
    nbytes = np.zeros(n, dtype=np.int64)
    for i, blob in enumerate(blobs):
        if i not in errors:
            problem = bytes_problem(blob)
            if problem:
                errors[i] = problem
            else:
                nbytes[i] = memoryview(blob).nbytes
                blobs[i] = bytes(blob) if isinstance(blob, memoryview) else blob
    encoded = piece.good()
    decode_errors: dict[int, str] = {}  # row of ``encoded`` -> message
    decoded, decode_rows_s = _calls(codec.decode_batch, codec.decode, [blobs[i] for i in encoded],
                                    replace(piece, positions=tuple(piece.positions[i] for i in encoded)),
                                    Stage.DECODING, decode_errors)
    decode_s = np.full(n, np.nan)
    decode_s[encoded] = decode_rows_s
    reconstructions = np.zeros(images.shape, images.dtype)  # calloc: no pass of its own over fresh pages
    for k, i in enumerate(encoded):
        problem = decode_errors.get(k) or reconstruction_problem(images[i], decoded[k])
        if problem:
            errors[i] = problem
        else:
            reconstructions[i] = decoded[k]
    return nbytes, reconstructions, encode_s, decode_s


def _measure_all(piece: _Piece, metrics: MetricSet, codec: Codec, images: np.ndarray, reconstructions: np.ndarray,
                 nbytes: np.ndarray) -> tuple[dict[str, np.ndarray], list[str]]:
    """Every metric of the run on the images that came through: columns of ``n`` values
    (NaN where an image failed), and notes on metrics that failed or were dropped."""
    n = piece.n
    columns = metrics.empty_columns(n)
    notes: list[str] = []
    for rows in piece.groups(piece.good()):
        piece.report_rows(Stage.MEASURING, rows)
        try:
            values, (failed, ignored) = measure(metrics, codec, images[rows], reconstructions[rows], nbytes[rows],
                                                piece.unit.extra_metrics)
        except Exception as exc:
            for i in rows:
                piece.errors[i] = f"metrics failed: {one_line(exc)}"
            continue
        for name, column in values.items():
            columns.setdefault(name, np.full(n, np.nan))[rows] = column
        if failed:  # why a metric is NaN, on the rows it concerns
            columns.setdefault(METRIC_ERROR, np.full(n, "", dtype=object))[rows] = "; ".join(failed)
        notes += [note for note in failed + ignored if note not in notes]
    return columns, notes


def _calls(batch_fn, single_fn, items: list, piece: _Piece, stage: Stage,
           errors: dict[int, str]) -> tuple[list, np.ndarray]:
    """Outputs of the codec's batch method over ``items`` (one call per item when the piece is
    ``single``, or when the batch call raises, so that only the failing items are lost); item i
    is the image at ``piece.positions[i]``. Failures go into ``errors`` (item -> message);
    returns the outputs (None where failed) and seconds per item."""
    seconds = np.full(len(items), np.nan)
    if not items:
        return [], seconds
    if not piece.single:
        piece.report_rows(stage, list(range(len(items))))
        start = time.perf_counter()
        try:
            outputs = list(batch_fn(items))
            if len(outputs) == len(items):
                seconds[:] = (time.perf_counter() - start) / len(items)
                return outputs, seconds
        except Exception:
            pass
    outputs = []
    for i, item in enumerate(items):
        piece.report(stage, piece.positions[i], 1)
        start = time.perf_counter()
        try:
            outputs.append(single_fn(item))
        except Exception as exc:
            outputs.append(None)
            errors[i] = f"{VERB[stage]} failed: {one_line(exc)}"
        seconds[i] = time.perf_counter() - start
    return outputs, seconds


def measure(metrics: MetricSet, codec: Codec, originals: np.ndarray, reconstructions: np.ndarray,
            nbytes: np.ndarray, extra_allowed: Sequence[str]):
    """Every metric of the run on a batch: the core ones, plugin metrics, and the codec's
    declared extras. Returns the values and two lists of notes: metrics that failed (NaN) and
    extras that were dropped (named like a core metric, or undeclared): the images are fine,
    the codec or metric is not."""
    failed: list[str] = []
    ignored: list[str] = []
    overhead = codec.overhead_bytes(originals.shape[1:])
    values = metrics.measure(originals, reconstructions, nbytes, overhead, notes=failed)
    values.update(codec_extras(metrics, codec, originals, set(extra_allowed), failed, ignored))
    return values, (failed, ignored)


def codec_extras(metrics: MetricSet, codec: Codec, originals: np.ndarray, declared: set[str],
                 failed: list[str], ignored: list[str]) -> dict[str, np.ndarray]:
    """The codec's ``extra_metrics`` of a batch that the run keeps: those it declares, none
    named like a metric compbench or a plugin computes. An extra that fails is NaN and a line
    in ``failed``; one dropped is a line in ``ignored``."""
    try:
        extras = dict(codec.extra_metrics(originals))
    except Exception as exc:  # optional extras must not cost the real metrics
        add_note(failed, "codec extra metrics", exc)
        return {}
    kept: dict[str, np.ndarray] = {}
    for name, column in extras.items():
        # the codec's own misreporting costs no value: dropped, and said
        reason = _why_dropped(metrics, name, declared)
        if reason:
            add_note(ignored, name, reason)
        else:
            kept[name] = guarded_column(name, lambda c=column: c, len(originals), failed)
    return kept


def _why_dropped(metrics: MetricSet, name: str, declared: set[str]) -> str | None:
    """Why the run drops a codec's extra ``name``, or None to keep it."""
    if name in CORE_NAMES or (name in metrics and metrics[name].compute is not None):
        return f"the codec reported a metric named like one compbench or a plugin computes ({name!r}); ignored"
    if name not in declared:
        return "the codec reported a metric it does not declare (CodecFactory.metrics); ignored"
    return None


def figure_panels(codec: Codec, images: np.ndarray, positions: Sequence[int]) -> dict[int, dict[str, np.ndarray]]:
    try:
        panels = codec.figure_panels(images)
        return {p: {name: np.asarray(stack[k]) for name, stack in panels.items()} for k, p in enumerate(positions)}
    except Exception:  # illustrations are optional: never cost the measurements
        return {}


def bytes_problem(blob) -> str | None:
    """Why an encoder's output is not a bitstream, or None: bytes, bytearray and memoryview are
    (counted in bytes); anything else, even an array with a buffer, is refused by type."""
    if isinstance(blob, (bytes, bytearray, memoryview)):
        return None
    kind = type(blob)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    hint = " (use .tobytes())" if hasattr(blob, "tobytes") else ""
    return f"encode returned {name}, expected bytes{hint}"


def reconstruction_problem(original: np.ndarray, image) -> str | None:
    if not isinstance(image, np.ndarray):
        return f"decode returned {type(image).__name__}, expected a numpy array"
    if image.shape != original.shape or image.dtype != original.dtype:
        return (f"decode returned {image.dtype} {image.shape}, expected "
                f"{original.dtype} {original.shape}")
    return None


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")

"""Work units: self-describing pieces of a run, and what comes back from them.

A unit names everything a worker needs and nothing it must inherit: the dataset (name,
parameters, split), the image positions in that split (all of one shape, so a codec's batch call
and the metrics run on one array), and the codec spec. Any executor (the local process pool, a
future Dask one) can run it in any process that can build the registry.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..metrics import CORE_METRIC_NAMES
from .spec import CodecSpec

#: how the error of a record lost to the infrastructure begins (a worker that died before it
#: began, a lost Dask worker or scheduler, a dropped connection): never the codec's doing, so
#: ``--resume`` runs it again
LOST = "lost: "
#: the most samples (pixels x channels) of images one unit holds: 2,500 MNIST digits (1.96 M);
#: photographs a few at a time, and one alone from 2 Mpx up. A worker holds its unit's images
#: three times over (the batch, the decoded images, the reconstructions): a unit of 64
#: same-size 24-Mpx photographs would need 3 x 4.6 GB, where the memory rule (:mod:`.memory`)
#: counts one image; and every copy of a large image costs page faults
UNIT_SAMPLES = 1 << 21


@dataclass(frozen=True)
class DataRef:
    """An opened dataset split, by name: enough for any process to open it again."""

    dataset: str
    split: str
    settings: tuple[tuple[str, Any], ...] = ()

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.settings)


@dataclass(frozen=True)
class WorkUnit:
    """One codec setting over some images of one shape."""

    spec: CodecSpec
    data: DataRef
    positions: tuple[int, ...]
    #: the images' shape, (H, W) or (H, W, C)
    shape: tuple[int, ...]
    #: positions whose reconstructions (cropped: :mod:`.samples`) and figure panels come back,
    #: for the figures and the report
    samples: tuple[int, ...] = ()
    #: the unit's number in its run (results are matched to units by it)
    ordinal: int = 0
    #: the codec's declared extra metrics: the only extras recorded
    extra_metrics: tuple[str, ...] = ()
    #: heavy modules its codec declares (``CodecFactory.preload``): a local worker that runs it
    #: starts from the fork server that imported them
    preload: tuple[str, ...] = ()

    @property
    def pixels(self) -> int:
        return int(self.shape[0] * self.shape[1])


@dataclass
class UnitResult:
    """What came back for some positions of a unit: per-image metric columns aligned with
    ``positions``, errors (position -> message), the sample images' reconstructions (each
    cropped to its original's most detailed region, :mod:`.samples`) and figure panels, and
    notes (codec misbehaviour that cost no image, e.g. an extra metric named like a core one)."""

    unit: WorkUnit
    positions: tuple[int, ...]
    metrics: dict[str, np.ndarray]
    errors: dict[int, str] = field(default_factory=dict)
    samples: dict[int, np.ndarray] = field(default_factory=dict)
    panels: dict[int, dict[str, np.ndarray]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    #: a failure that every later unit of this codec setting would repeat (create() raised)
    setup_error: str = ""
    #: why the unit was not run where it was sent (a Dask worker with other versions): nothing
    #: of it is recorded, and the run ends unfinished
    refused: str = ""

    @property
    def pixels(self) -> int:
        return self.unit.pixels

    @classmethod
    def failed(cls, unit: WorkUnit, positions: Sequence[int], message: str, setup_error: str = "") -> UnitResult:
        n = len(positions)
        return cls(unit, tuple(positions), {name: np.full(n, np.nan) for name in CORE_METRIC_NAMES},
                   {int(p): message for p in positions}, setup_error=setup_error)

    @classmethod
    def lost(cls, unit: WorkUnit, positions: Sequence[int], why: str) -> UnitResult:
        """Images lost to the infrastructure, not to the codec (see :data:`LOST`)."""
        return cls.failed(unit, positions, LOST + why)

    @classmethod
    def merge(cls, unit: WorkUnit, parts: Iterable[UnitResult]) -> UnitResult:
        """One result for the whole unit from results over parts of its positions."""
        parts = list(parts)
        if len(parts) == 1 and parts[0].positions == unit.positions:
            return parts[0]
        row = {p: i for i, p in enumerate(unit.positions)}
        kinds = {name: values.dtype for part in parts for name, values in part.metrics.items()}
        # numbers start as NaN, text (why a metric failed) as ""
        metrics = {name: np.full(len(unit.positions), np.nan) if dtype.kind in "fiu"
                   else np.full(len(unit.positions), "", dtype=object) for name, dtype in kinds.items()}
        merged = cls(unit, unit.positions, metrics)
        for part in parts:
            rows = [row[p] for p in part.positions]
            for name, values in part.metrics.items():
                metrics[name][rows] = values
            merged.errors.update(part.errors)
            merged.samples.update(part.samples)
            merged.panels.update(part.panels)
            merged.notes += tuple(n for n in part.notes if n not in merged.notes)
            merged.setup_error = merged.setup_error or part.setup_error
        return merged


@dataclass(frozen=True, kw_only=True)
class UnitLayout:
    """What every unit of a run shares: the data, each image's shape, the shapes each codec does
    not take, the images whose reconstructions come back, and each codec's declared extras."""

    data: DataRef
    shape_of: Mapping[int, tuple[int, ...]]
    #: codec name -> shapes it does not take
    skip: Mapping[str, set[tuple[int, ...]]] = field(default_factory=dict)
    #: positions whose reconstructions (and figure panels) come back, for figure grids
    samples: frozenset[int] = frozenset()
    #: codec name -> the extra metrics its factory declares
    extra_metrics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: codec name -> the heavy modules its factory declares
    preload: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def plan_units(specs: Sequence[CodecSpec], positions: Sequence[int], layout: UnitLayout, *, jobs: int = 1,
               done: set[tuple[int, int]] = frozenset(), chunk: int | None = None) -> list[WorkUnit]:
    """Units for every spec over the selected ``positions`` (in order), grouped by image shape and
    sliced so each codec has a few units per worker (load balance) but units stay large enough
    for batched codecs, and at most :data:`UNIT_SAMPLES` of images (or one image) each.
    ``done`` holds (spec ordinal, position) pairs already recorded (``--resume``)."""
    if chunk is None:
        chunk = int(np.clip(np.ceil(len(positions) / (4 * max(jobs, 1))), 64, 2500))
    by_shape: dict[tuple[int, ...], list[int]] = {}
    for p in np.asarray(positions, dtype=np.int64).tolist():  # Python ints, fast to loop over
        by_shape.setdefault(layout.shape_of[p], []).append(p)
    wanted = layout.samples
    units: list[WorkUnit] = []
    for ordinal, spec in enumerate(specs):
        for shape, group in by_shape.items():
            if shape in layout.skip.get(spec.name, ()):
                continue
            todo = [p for p in group if (ordinal, p) not in done] if done else group
            step = max(1, min(chunk, UNIT_SAMPLES // math.prod(shape)))
            for start in range(0, len(todo), step):
                part = tuple(todo[start : start + step])
                units.append(WorkUnit(spec, layout.data, part, tuple(shape),
                                      tuple(p for p in part if p in wanted) if wanted else (), len(units),
                                      layout.extra_metrics.get(spec.name, ()), layout.preload.get(spec.name, ())))
    return units

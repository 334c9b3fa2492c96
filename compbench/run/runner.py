"""Running codecs over images: the pieces, and the one call that runs them.

- :mod:`.units`: self-describing work units (dataset, split, image positions, codec spec) and
  their results; :func:`plan_units` slices a run into them.
- :mod:`.worker`: what a worker does with a unit (the one place that times encode and decode,
  checks bitstreams and reconstructions, and measures).
- :mod:`.pool`: the local executor, worker processes with per-image fault isolation, time
  limits and no orphans.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .pool import DEFAULT_TIMEOUT, LocalPool
from .units import METRIC_COLUMNS, DataRef, UnitResult, WorkUnit, plan_units
from .worker import WorkerState, run_piece

__all__ = ["DEFAULT_TIMEOUT", "METRIC_COLUMNS", "DataRef", "LocalPool", "UnitResult", "WorkUnit",
           "WorkerState", "execute", "plan_units", "run_piece"]


def execute(units: Iterable[WorkUnit], jobs: int = 1, timeout: float = DEFAULT_TIMEOUT,
            registry=None) -> Iterator[UnitResult]:
    """Run every unit on the local pool; yield each unit's result as it finishes."""
    with LocalPool(jobs, timeout, registry) as pool:
        yield from pool.run(units)

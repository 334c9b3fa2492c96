"""Executing a plan: its work units through an executor, each finished unit straight into the
sink, in one pass (the sample images a resumed run recorded before are encoded again in the
same pass, for the figures, and not recorded twice)."""

from __future__ import annotations

from dataclasses import replace

from ..run.executor import Executor
from ..run.progress import ProgressBar
from ..run.units import UnitLayout, WorkUnit, plan_units
from .plan import RunPlan
from .sink import RecordsSink


def execute(plan: RunPlan, executor: Executor, sink: RecordsSink) -> None:
    """Run every unit the sink lacks; the executor's workers are let go at the end."""
    layout = unit_layout(plan)
    slots = executor.slots  # asked once: Dask asks its scheduler, which may be gone by the end
    units = plan_units(plan.specs, plan.selection, layout, jobs=slots, done=sink.recorded())
    redrawn = sample_units(plan, layout, sink, first_ordinal=len(units))
    # the last units are handed out (two per worker) once this many results are in: from then
    # on this process only waits
    handed_out = len(units) + len(redrawn) - 2 * slots
    # a with block: the bar's ticker thread stops however the loop ends (Ctrl-C too)
    with ProgressBar(sum(len(unit.positions) for unit in units), enabled=plan.output.progress) as bar:
        for count, result in enumerate(executor.run([*units, *redrawn]), start=1):
            if count == handed_out:
                load_figure_modules(plan)
            recorded = result.unit.ordinal < len(units)
            sink.accept(result, record=recorded)
            if recorded:
                bar.advance(len(result.positions), result.unit.spec.label)
    executor.release()


def load_figure_modules(plan: RunPlan) -> None:
    """Import what drawing the figures needs (matplotlib: ~0.4 s) while the workers code their
    last units (each worker holds up to two, so none waits for this process meanwhile), not
    after the last of them."""
    if plan.output.write and plan.output.figures:
        from ..present import grids  # noqa: F401


def unit_layout(plan: RunPlan) -> UnitLayout:
    return UnitLayout(data=plan.data, shape_of=plan.shapes,
                      skip={name: set(by_shape) for name, by_shape in plan.refused.items()},
                      samples=frozenset(plan.sample_positions), extra_metrics=plan.declared_extras,
                      preload=plan.preload_by_codec)


def sample_units(plan: RunPlan, layout: UnitLayout, sink: RecordsSink, first_ordinal: int) -> list[WorkUnit]:
    """Units that encode again the sample images a resumed run recorded before (without an
    error), whose reconstructions the figure grids show (none without figures); their results
    are not recorded."""
    recorded_ok = sink.recorded_ok() if plan.output.figures else set()  # only the figures show them
    if not recorded_ok:
        return []
    units: list[WorkUnit] = []
    for ordinal, spec in enumerate(plan.specs):
        again = [p for p in plan.sample_positions if (ordinal, p) in recorded_ok]
        for unit in plan_units([spec], again, layout, chunk=max(1, len(again))):
            units.append(replace(unit, ordinal=first_ordinal + len(units)))
    return units

"""The names a user types into ``compbench run`` (codecs and their parameters, the dataset and
its parameters, metrics), checked before the harness is imported.

A typo then costs the plugins' import (a fraction of a second), not the seconds that pandas,
scipy and matplotlib take to load on a busy machine before the run's plan would find it. The
checks are the run's own functions, called early: the plan calls them again with everything
else, so this adds no rule of its own.
"""

from __future__ import annotations

from ..contracts.params import resolve_settings
from ..contracts.registry import build_registry
from ..defaults import ExecutorKind
from ..metrics import DEFAULT_RD_METRICS, MetricSet
from ..run.spec import parse_codec_specs, parse_dataset_spec


def check_names(args) -> None:
    """Raise the run's own one-line CompbenchError for a wrong codec, parameter, dataset or
    metric name (with a "did you mean")."""
    registry = build_registry()
    specs = parse_codec_specs(args.codecs, registry, sweep=args.sweep)
    name, settings = parse_dataset_spec(args.dataset)
    adapter = registry.dataset(name)
    resolve_settings(adapter.params, settings, owner=f"dataset {adapter.name}")
    factories = {spec.name: registry.codec(spec.name) for spec in specs}
    metrics = MetricSet.for_run(registry, factories.values(), extra=names(args.metrics_extra))
    metrics.check_rd_metrics(names(args.rd_metrics) or DEFAULT_RD_METRICS)
    if args.executor == ExecutorKind.LOCAL:  # the names are right: the workers' imports begin now
        from ..run.local_pool import preload_of, warm_fork_server

        warm_fork_server(preload_of(factories.values()))


def names(text: str | None) -> tuple[str, ...]:
    """``"psnr, ms_ssim"`` -> ("psnr", "ms_ssim"), as the run reads these options."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())

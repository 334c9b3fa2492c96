"""What is installed, as ``compbench list`` shows it: every codec, dataset, trainer and metric
with the plugin that provides it, its parameters and whether it can run here."""

from __future__ import annotations

from .._version import __version__
from ..metrics import OPTIONAL_METRICS
from .codec import AVAILABLE
from .registry import Registry, build_registry


def describe_plugins(registry: Registry | None = None) -> dict:
    """Every codec, dataset, trainer and metric with its provider, parameters and availability."""
    registry = registry or build_registry()

    def entry(registered, extra: dict) -> dict:
        p = registered.provenance
        return {"name": registered.name, "description": registered.obj.description,
                "plugin": p.plugin, "distribution": p.distribution, "version": p.version,
                **extra, **status(registered.obj)}

    return {
        "codecs": [entry(r, {"params": [p.as_dict() for p in r.obj.params],
                             "ladder": list(r.obj.ladder)}) for r in sorted(registry.codecs.values(), key=lambda r: r.name)],
        "datasets": [entry(r, {"splits": list(r.obj.splits), "classes": list(r.obj.class_names),
                               "params": [p.as_dict() for p in r.obj.params]})
                     for r in sorted(registry.datasets.values(), key=lambda r: r.name)],
        "trainers": [entry(r, {"params": [p.as_dict() for p in r.obj.params]})
                     for r in sorted(registry.trainers.values(), key=lambda r: r.name)],
        "metrics": [metric_entry(m, None) for m in OPTIONAL_METRICS]
                   + [metric_entry(r.obj, r.provenance) for r in sorted(registry.metrics.values(), key=lambda r: r.name)],
        "failed_plugins": [{"plugin": name, "error": error} for name, error in sorted(registry.failures.items())],
    }


def status(obj) -> dict:
    """Whether a plugin (or a metric with an ``available`` check) can run here, and the fix."""
    try:
        s = AVAILABLE if getattr(obj, "available", None) is None else obj.available()
    except Exception as exc:  # a plugin's own check must not break the listing
        return {"available": False, "reason": f"availability check failed: {exc}", "fix": ""}
    return {"available": s.ok, "reason": s.reason, "fix": s.fix}


def metric_entry(metric, provenance) -> dict:
    """A metric as the listing shows it: core ones are provided by compbench itself."""
    where = {"plugin": "compbench", "distribution": "compbench", "version": __version__} if provenance is None \
        else {"plugin": provenance.plugin, "distribution": provenance.distribution, "version": provenance.version}
    return {"name": metric.name, "description": metric.description, **where, "label": metric.label,
            "better": str(metric.better), "optional": metric.optional, **status(metric)}

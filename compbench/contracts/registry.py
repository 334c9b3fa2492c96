"""Finding plugins: a fresh pluggy manager loading the ``compbench`` entry-point group.

Each entry point loads on its own, so one broken plugin is reported, not fatal. Registrations
are collected per plugin so that every codec and dataset knows which distribution provided it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from ..metrics.declaration import Metric
from . import hookspecs
from .codec import CodecFactory
from .dataset import DatasetAdapter
from .errors import CompbenchError, PluginError, did_you_mean
from .trainer import Trainer

ENTRY_POINT_GROUP = "compbench"
#: comma-separated plugin (entry point) names to skip, like tox's TOX_DISABLED_EXTERNAL_PLUGINS
DISABLE_ENV = "COMPBENCH_DISABLE_PLUGINS"


@dataclass(frozen=True)
class Provenance:
    plugin: str  # the entry point (or registered plugin) name
    distribution: str
    version: str


@dataclass(frozen=True)
class Registered:
    """A codec factory, dataset adapter or trainer, with the plugin that provided it."""

    obj: Any
    provenance: Provenance

    @property
    def name(self) -> str:
        return self.obj.name


@dataclass
class Registry:
    codecs: dict[str, Registered] = field(default_factory=dict)
    datasets: dict[str, Registered] = field(default_factory=dict)
    trainers: dict[str, Registered] = field(default_factory=dict)
    metrics: dict[str, Registered] = field(default_factory=dict)
    #: plugins that failed to load: plugin name -> one-line reason
    failures: dict[str, str] = field(default_factory=dict)
    plugins: list[Provenance] = field(default_factory=list)

    def codec(self, name: str) -> CodecFactory:
        return self._lookup(self.codecs, name, "codec").obj

    def requirements(self) -> list[str]:
        """Pinned ``name==version`` lines of every plugin distribution, for reproducing a run."""
        return sorted({f"{p.distribution}=={p.version}" for p in self.plugins})

    def dataset(self, name: str) -> DatasetAdapter:
        return self._lookup(self.datasets, name, "dataset").obj

    def trainer(self, name: str) -> Trainer:
        return self._lookup(self.trainers, name, "trainer").obj

    def _lookup(self, table: dict[str, Registered], name: str, kind: str) -> Registered:
        if name not in table:
            valid = ", ".join(sorted(table)) or "(none installed)"
            # the name may be one a broken plugin would have registered: say which failed and why
            broken = "; ".join(f"plugin {plugin!r} failed to load ({reason})"
                               for plugin, reason in sorted(self.failures.items()))
            raise CompbenchError(f"unknown {kind} {name!r}{did_you_mean(name, table)}valid: {valid}"
                                 + (f"; {broken}" if broken else "") + " (see: compbench list)")
        return table[name]


def make_plugin_manager(
    extra_plugins: Iterable[tuple[str, Any]] = (), load_entry_points: bool = True
) -> tuple[pluggy.PluginManager, dict[str, str], dict[str, Provenance]]:
    """A fresh manager with the entry-point plugins (and ``extra_plugins``) registered.

    Returns the manager, the load failures and each plugin object's provenance.
    """
    pm = pluggy.PluginManager("compbench")
    pm.add_hookspecs(hookspecs)
    failures: dict[str, str] = {}
    provenance: dict[str, Provenance] = {}
    disabled = {n.strip() for n in os.environ.get(DISABLE_ENV, "").split(",") if n.strip()}
    dists: dict[int, tuple[str, str]] = {}  # id(distribution) -> (name, version): parsed once each
    for name in disabled:
        pm.set_blocked(name)
    if load_entry_points:
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            if ep.name in disabled:
                continue
            if pm.has_plugin(ep.name):  # the same name from two distributions on sys.path
                failures[ep.name] = f"entry point {ep.name!r} is declared twice ({ep.value}); skipped"
                continue
            try:
                plugin = ep.load()
                pm.register(plugin, name=ep.name)
            except Exception as exc:  # a broken plugin must not take down the others
                failures[ep.name] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                continue
            provenance[ep.name] = Provenance(ep.name, *_name_and_version(ep.dist, dists))
    for name, plugin in extra_plugins:
        pm.register(plugin, name=name)
        provenance[name] = Provenance(name, name, "(registered in process)")
    pm.check_pending()  # a misspelled hook is an error, not silence
    return pm, failures, provenance


def _name_and_version(dist, seen: dict[int, tuple[str, str]]) -> tuple[str, str]:
    """A plugin distribution's name and version, its metadata parsed once per distribution
    (~0.6 ms a parse; one distribution often declares many entry points: compbench itself 16;
    ``.name`` and ``.version`` would parse it once each)."""
    if dist is None:
        return "?", "?"
    if id(dist) not in seen:
        meta = dist.metadata
        seen[id(dist)] = (meta.get("Name") or "?", meta.get("Version") or "?")
    return seen[id(dist)]


def build_registry(extra_plugins: Iterable[tuple[str, Any]] = (), load_entry_points: bool = True) -> Registry:
    """Collect every plugin's registrations, keeping which plugin provided what."""
    pm, failures, provenance = make_plugin_manager(extra_plugins, load_entry_points)
    registry = Registry(failures=failures, plugins=sorted(set(provenance.values()), key=lambda p: p.plugin))
    kinds = (
        ("register_codecs", registry.codecs, CodecFactory),
        ("register_datasets", registry.datasets, DatasetAdapter),
        ("register_trainers", registry.trainers, Trainer),
        ("register_metrics", registry.metrics, Metric),
    )
    for hook_name, table, base in kinds:
        hook = getattr(pm.hook, hook_name)
        for impl in hook.get_hookimpls():
            plugin_name = impl.plugin_name
            origin = provenance.get(plugin_name, Provenance(plugin_name, "?", "?"))
            try:
                impl.function(register=lambda obj, _t=table, _b=base, _o=origin: _add(_t, _b, obj, _o))
            except PluginError:
                raise
            except Exception as exc:
                registry.failures[plugin_name] = f"{hook_name} failed: {type(exc).__name__}: {exc}"
    return registry


def _add(table: dict[str, Registered], base: type, obj: Any, origin: Provenance) -> None:
    if not isinstance(obj, base):
        raise PluginError(
            f"plugin {origin.plugin!r} registered {obj!r}, which is not a {base.__name__}; "
            f"fix the plugin's hook to register {base.__name__} instances"
        )
    if not obj.name or not obj.name.replace("_", "").replace("-", "").isalnum():
        raise PluginError(f"plugin {origin.plugin!r} registered a {base.__name__} with bad name {obj.name!r}")
    if base is Metric:
        _check_metric_name(obj, origin)
    if base is CodecFactory:
        from ..metrics import check_codec_metrics

        check_codec_metrics(obj)
    if obj.name in table:
        other = table[obj.name].provenance
        raise PluginError(
            f"{base.__name__} name {obj.name!r} is registered by both {other.distribution} "
            f"({other.plugin}) and {origin.distribution} ({origin.plugin}); uninstall one, or "
            f"disable one with {DISABLE_ENV}={origin.plugin}"
        )
    table[obj.name] = Registered(obj, origin)


def _check_metric_name(metric: Metric, origin: Provenance) -> None:
    """Core metric names belong to compbench: a plugin may add metrics, not redefine one."""
    from ..metrics import CORE_NAMES, OPTIONAL_METRICS

    if metric.name in CORE_NAMES or metric.name in {m.name for m in OPTIONAL_METRICS}:
        raise PluginError(
            f"plugin {origin.plugin!r} ({origin.distribution}) registered metric {metric.name!r}, "
            f"a name of compbench's core metrics; rename the plugin's metric, or disable the "
            f"plugin with {DISABLE_ENV}={origin.plugin}"
        )

"""Hook specifications: what a compbench plugin can provide.

Each hook takes a ``register`` callback (the style of ``llm`` and ``datasette``): the harness
owns ``register``, so checking, naming and provenance happen in one place. An implementation
may accept fewer arguments than the spec, so specs can grow without breaking plugins.

``register`` raises :class:`compbench.PluginError` for an object of the wrong type, a bad name
or a name another plugin registered already: an error naming the plugin, not a silent skip.
"""

from collections.abc import Callable

import pluggy

from ..metrics.declaration import Metric
from .codec import CodecFactory
from .dataset import DatasetAdapter
from .trainer import Trainer

hookspec = pluggy.HookspecMarker("compbench")
hookimpl = pluggy.HookimplMarker("compbench")


@hookspec
def register_codecs(register: Callable[[CodecFactory], None]) -> None:
    """Register codec families.

    :param register: call ``register(factory)`` with a :class:`compbench.CodecFactory` instance
        for each codec family. Register factories, not loaded models: importing a plugin must
        not load torch or weights.
    """


@hookspec
def register_datasets(register: Callable[[DatasetAdapter], None]) -> None:
    """Register dataset adapters.

    :param register: call ``register(adapter)`` with a :class:`compbench.DatasetAdapter`
        instance for each dataset. Opening a split reads the data, not registering it.
    """


@hookspec
def register_trainers(register: Callable[[Trainer], None]) -> None:
    """Register trainers for learned codecs, run by ``compbench train NAME``.

    :param register: call ``register(trainer)`` with a :class:`compbench.Trainer` instance;
        its ``name`` is the codec it trains.
    """


@hookspec
def register_metrics(register: Callable[[Metric], None]) -> None:
    """Register per-image metrics, computed for every codec and image of a run.

    :param register: call ``register(metric)`` with a :class:`compbench.Metric` whose
        ``compute(originals, reconstructions)`` returns one value per image. The metric then
        appears in records, summaries, tables, plots, the report and the regression gate. A
        core metric's name cannot be taken.
    """

"""compbench-pca: an example compbench plugin, a small learned codec.

The entry point (``[project.entry-points.compbench] pca = "compbench_pca"``) names this
module; compbench calls the hooks below. Keep it light: the basis loads when a codec is
created, not when compbench imports the plugin.
"""

from compbench import hookimpl

from .codec import PcaCodec, PcaFactory
from .trainer import PcaTrainer

__all__ = ["PcaCodec", "PcaFactory", "PcaTrainer"]


@hookimpl
def register_codecs(register):
    register(PcaFactory())


@hookimpl
def register_trainers(register):
    register(PcaTrainer())

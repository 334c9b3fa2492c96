"""The trainer contract: how a learned-codec plugin offers ``compbench train NAME``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .codec import AVAILABLE, Availability
from .params import Param


class Trainer:
    """Trains a learned codec's weights. ``name`` is the codec's name (``ddcae``).

    ``params`` become the command's options (``--epochs``, ``--batch-size`` ...: underscores
    turn into dashes). :meth:`train` writes its outputs (weights, log, plots) to ``out`` and
    reports progress through ``log`` (one line per epoch), returning the weights path.
    """

    name: str = ""
    description: str = ""
    params: tuple[Param, ...] = ()
    #: where the codec's shipped weights live (until 0.2 also the default output; now a
    #: training writes a new folder unless ``--out``, and replacing these takes ``--out`` there
    #: and ``--overwrite``)
    default_out: Path | None = None

    def available(self) -> Availability:
        return AVAILABLE

    def train(self, settings: dict[str, Any], out: Path, log: Callable[[str], None]) -> Path:
        raise NotImplementedError

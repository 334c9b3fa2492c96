"""The defaults a user sees in ``--help`` (codecs, anchor, time limit, executors), in a module
that imports nothing of the harness, so that the command line shows them without loading it."""

from enum import StrEnum

DEFAULT_CODECS = "ddcae,jpeg,jpeg2000"
DEFAULT_DATASET = "mnist"
DEFAULT_ANCHOR = "jpeg2000"
#: seconds an image may take in one stage, unless told otherwise (--timeout)
DEFAULT_TIMEOUT = 60.0


class ExecutorKind(StrEnum):
    """Where a run's work units run: local worker processes, or a Dask cluster."""

    LOCAL = "local"
    DASK = "dask"


EXECUTORS = tuple(kind.value for kind in ExecutorKind)

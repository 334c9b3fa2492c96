"""The local pool and the Dask executor both implement compbench.run.executor.Executor: the
runtime check passes, and every method of the protocol has the same parameters and types in
both (isinstance alone only sees that the names exist). Nothing here starts a worker or a
cluster: DaskExecutor connects when entered, LocalPool forks when it runs a unit."""

import inspect
import typing

import pytest

from compbench.run.dask_executor import DaskExecutor
from compbench.run.executor import Executor, WorkerSetup, open_executor
from compbench.run.local_pool import LocalPool

IMPLEMENTATIONS = [LocalPool, DaskExecutor]
#: the methods the protocol declares (not the __init__ and __subclasshook__ Protocol adds to it)
METHODS = sorted(name for name, value in vars(Executor).items()
                 if inspect.isfunction(value) and value.__qualname__ == f"Executor.{name}")


def test_the_protocol_names_what_a_run_calls():
    assert METHODS == ["__enter__", "__exit__", "close", "release", "run"]
    assert typing.get_type_hints(Executor) == {"slots": int}


@pytest.mark.parametrize("kind", ["local", "dask"])
def test_each_executor_a_run_opens_is_an_executor(kind):
    executor = open_executor(kind, 1, 5.0, WorkerSetup())
    try:
        assert isinstance(executor, Executor)
        assert executor.slots == 1
        assert getattr(executor, "client", None) is None  # Dask: not connected before it is entered
    finally:
        executor.close()


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, ids=lambda cls: cls.__name__)
@pytest.mark.parametrize("name", METHODS)
def test_methods_take_the_protocols_parameters(implementation, name):
    wanted, method = getattr(Executor, name), getattr(implementation, name)
    assert _parameters(method) == _parameters(wanted)
    hints, wanted_hints = typing.get_type_hints(method), typing.get_type_hints(wanted)
    if name == "__enter__":  # returns itself: its own class stands for the protocol
        assert issubclass(hints.pop("return"), implementation) and wanted_hints.pop("return") is Executor
    assert hints == wanted_hints


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS, ids=lambda cls: cls.__name__)
def test_slots_is_an_int(implementation):
    slots = inspect.getattr_static(implementation, "slots")
    assert isinstance(slots, property) and typing.get_type_hints(slots.fget)["return"] is int


def _parameters(method) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in inspect.signature(method).parameters.values()]


def test_worker_setup_names_real_types():
    from compbench.contracts.registry import Registry
    from compbench.metrics import MetricSet

    hints = typing.get_type_hints(WorkerSetup, localns={"Registry": Registry, "MetricSet": MetricSet})
    assert hints["metrics"] == MetricSet | None
    assert hints["registry"] == hints["run_registry"] == Registry | None

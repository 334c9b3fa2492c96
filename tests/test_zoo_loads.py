"""The broken-codec zoo installs as a plugin distribution: every codec registers, and the
plugin that cannot import is reported, not fatal."""

from compbench.contracts.registry import build_registry


def test_zoo_registers_every_fault_and_reports_the_unimportable_plugin(with_zoo):
    import compbench_zoo

    registry = build_registry()
    zoo = {name for name in registry.codecs if name.startswith("zoo-")}
    assert zoo == {f"zoo-{fault}" for fault in compbench_zoo.FAULTS} | {"zoo-bounds", "zoo-slow"}
    assert "ModuleNotFoundError" in registry.failures["zoo_unimportable"]
    assert "jpeg" in registry.codecs  # the built-ins still load

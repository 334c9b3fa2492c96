"""Plugin discovery: built-ins through the entry-point group, a real third-party distribution,
broken and clashing plugins."""

import json
import sys
import types

import pytest
from conftest import run_cli

from compbench.contracts.codec import CodecFactory
from compbench.contracts.errors import PluginError
from compbench.contracts.hookspecs import hookimpl
from compbench.contracts.registry import build_registry


def test_builtins_come_through_the_entry_point_group(registry):
    assert {"jpeg", "jpeg2000"} <= set(registry.codecs)
    assert "mnist" in registry.datasets
    for name in ("jpeg", "jpeg2000", "mnist"):
        table = registry.codecs if name in registry.codecs else registry.datasets
        assert table[name].provenance.distribution == "compbench"
        assert table[name].provenance.plugin == name


def test_harness_imports_no_codec_by_name():
    from pathlib import Path

    import compbench

    source = "\n".join(p.read_text() for p in Path(compbench.__file__).parent.rglob("*.py"))
    assert "compbench_codecs" not in source and "compbench_datasets" not in source


def test_third_party_distribution_is_discovered(with_thirdparty):
    registry = build_registry()
    registered = registry.codecs["zlibraw"]
    assert registered.provenance.distribution == "compbench-zlibraw"
    assert registered.provenance.version == "1.2.0"


def test_third_party_shows_in_list_and_runs(with_thirdparty, tmp_path, cli_main):
    listing = cli_main("list", "--json")
    assert listing.returncode == 0, listing.stderr
    codecs = {c["name"]: c for c in json.loads(listing.stdout)["codecs"]}
    assert codecs["zlibraw"]["distribution"] == "compbench-zlibraw"
    assert codecs["zlibraw"]["params"][0] == {"name": "level", "type": "int", "default": 6,
                                             "range": "0..9", "help": "zlib level"}
    text = cli_main("list").stdout
    assert "zlibraw" in text and "compbench-zlibraw 1.2.0" in text

    done = run_cli("run", "--codecs", "zlibraw:level=9,jpeg", "--limit", "30", "--out", tmp_path / "r",
                   "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "zlibraw:level=9 psnr" in done.stdout.replace("\n", " ") or "lossless" in done.stdout
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    assert "compbench-zlibraw==1.2.0" in manifest["plugins"]


def make_plugin(name, factory_name, fail=False):
    class Factory(CodecFactory):
        pass

    Factory.name = factory_name
    module = types.ModuleType(name)

    @hookimpl
    def register_codecs(register):
        if fail:
            raise RuntimeError("boom")
        register(Factory())

    module.register_codecs = register_codecs
    return module


def test_duplicate_codec_name_is_an_error():
    with pytest.raises(PluginError, match="'jpeg' is registered by both"):
        build_registry(extra_plugins=[("clash", make_plugin("clash", "jpeg"))])


def test_a_plugin_whose_hook_raises_is_reported_not_fatal():
    registry = build_registry(extra_plugins=[("broken", make_plugin("broken", "x", fail=True))])
    assert "jpeg" in registry.codecs
    assert "boom" in registry.failures["broken"]


def test_a_plugin_that_fails_to_import_is_listed(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "broken_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "broken_plugin-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (site / "broken_plugin-0.1.dist-info" / "entry_points.txt").write_text("[compbench]\nbroken = broken_plugin\n")
    (site / "broken_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    done = run_cli("list", cwd=tmp_path)
    assert done.returncode == 0
    assert "plugin 'broken' failed to load: ImportError: needs libfoo" in done.stderr
    assert "jpeg" in done.stdout


def test_plugins_can_be_disabled(monkeypatch):
    monkeypatch.setenv("COMPBENCH_DISABLE_PLUGINS", "jpeg2000")
    assert "jpeg2000" not in build_registry().codecs


def test_list_does_not_import_torch(tmp_path):
    import subprocess

    code = ("import sys; from compbench.api import describe_plugins; describe_plugins(); "
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == "False", done.stderr

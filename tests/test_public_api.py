"""The public API is what docs/plugins.md says: its import block is compbench's __all__, every
Python sample in it runs, every hook and every kit check is documented, and the example plugin
and the built-in plugins use nothing but the public API."""

import ast
import inspect
import re
import subprocess
import sys
import tomllib
import types
import typing
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_every_check_passed

import compbench
from compbench import CompbenchError, check_codec, load_dataset
from compbench.api import load_dataset as load_with_registry
from compbench.contracts import hookspecs
from compbench.contracts.registry import build_registry
from compbench.testing import CHECK_NAMES

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "plugins.md"
EXAMPLE = ROOT / "examples" / "compbench-pca"
HOOKS = sorted(name for name in dir(hookspecs) if name.startswith("register_"))
#: the example's own sources (not the build/ copies a pip install leaves beside them)
EXAMPLE_SOURCES = sorted([*EXAMPLE.glob("src/**/*.py"), *EXAMPLE.glob("tests/**/*.py")])
#: the built-in plugins' folders -> the packages they install as (pyproject.toml's package-dir:
#: codecs, datasets, metrics): the first code a plugin author copies
BUILT_IN_PACKAGES = {folder: package for package, folder in
                     tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].items()}
BUILT_IN_SOURCES = sorted(path for folder in BUILT_IN_PACKAGES for path in ROOT.glob(f"{folder}/**/*.py"))


def code_blocks(path: Path, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(), flags=re.S | re.M)


@pytest.fixture(scope="module")
def guide_module():
    """Every Python sample of the guide, run in order as one module (a plugin module),
    importable by name while the tests run (the kit pickles its factories, as workers would)."""
    module = types.ModuleType("docs_plugins_guide")
    sys.modules[module.__name__] = module
    try:
        exec(compile("\n".join(code_blocks(GUIDE, "python")), str(GUIDE), "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[module.__name__]


def documented_imports() -> dict[str, set[str]]:
    """{module: names} of the guide's import block (its first Python sample)."""
    tree = ast.parse(code_blocks(GUIDE, "python")[0])
    return {node.module: {alias.name for alias in node.names}
            for node in tree.body if isinstance(node, ast.ImportFrom)}


def test_the_documented_names_are_the_public_api():
    documented = documented_imports()
    assert documented["compbench"] == set(compbench.__all__)
    for module, names in documented.items():
        imported = __import__(module, fromlist=sorted(names))
        for name in names:
            assert hasattr(imported, name), f"{module}.{name} is documented but missing"


def test_every_documented_public_name_is_in_the_table():
    table = GUIDE.read_text().split("## The public API")[1].split("## Registering")[0]
    for name in documented_imports()["compbench"] - {"__version__"}:
        assert f"`{name}`" in table, name


def test_the_guides_samples_make_a_working_plugin(guide_module):
    registry = build_registry(extra_plugins=[("guide", guide_module)], load_entry_points=False)
    assert set(registry.codecs) == {"posterize"}
    assert set(registry.datasets) == {"squares"}
    assert set(registry.trainers) == {"posterize"}
    assert set(registry.metrics) == {"max_error"}
    assert_every_check_passed(check_codec(guide_module.CountingFactory()))


def test_the_guides_dataset_takes_parameters_like_a_codec(guide_module):
    registry = build_registry(extra_plugins=[("guide", guide_module)], load_entry_points=False)
    source = load_with_registry("squares", registry=registry, count="5", size="16")  # as from a spec
    assert len(source) == 5 and source.shape(4) == (16, 16)
    images = source.read([4, 0])
    assert [image.shape for image in images] == [(16, 16)] * 2
    np.testing.assert_array_equal(images[1], source.read([0])[0])  # random access, same pixels
    with pytest.raises(CompbenchError, match="size=4 is out of range; valid: size=8..4096"):
        load_with_registry("squares", registry=registry, size="4")
    with pytest.raises(CompbenchError, match="no split 'train'"):
        load_with_registry("squares", "train", registry=registry)


def test_the_guides_metric_computes_one_value_per_image(guide_module):
    originals = np.zeros((3, 8, 8), np.uint8)
    reconstructions = originals.copy()
    reconstructions[1, 2, 2] = 7
    np.testing.assert_array_equal(guide_module.MAX_ERROR.compute(originals, reconstructions), [0, 7, 0])


def test_the_guides_toml_declares_an_entry_point():
    (block,) = code_blocks(GUIDE, "toml")
    assert tomllib.loads(block)["project"]["entry-points"]["compbench"] == {"posterize": "compbench_posterize"}


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_is_documented_and_exercised(hook, guide_module):
    """The datasette rule: a hook without docs or without a test plugin using it is a bug."""
    assert f"### `{hook}`" in GUIDE.read_text()
    implemented_in = [path for path in [*ROOT.glob("tests/**/*.py"), *EXAMPLE_SOURCES]
                      if f"def {hook}(" in path.read_text()]
    assert implemented_in or hasattr(guide_module, hook), f"no test plugin implements {hook}"


def test_every_kit_check_is_documented():
    text = GUIDE.read_text()
    for name in CHECK_NAMES:
        assert f"| `{name}` |" in text, name


def test_load_dataset_opens_a_registered_split_for_fitting():
    source = load_dataset("mnist", "train")
    assert len(source) == 60_000
    assert source.read([0])[0].shape == (28, 28)


# -- plugins use the public API only --------------------------------------------------------------
PUBLIC_MODULES = {"compbench", "compbench.testing"}


def non_public_uses(path: Path, own_package: str) -> list[str]:
    """What ``path`` takes from compbench beyond its public API, or from another plugin:
    ``compbench.x`` modules, ``from compbench import`` names outside ``__all__``,
    ``compbench.x`` attributes outside it, and other ``compbench_*`` packages."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [node.module]
            if node.module == "compbench":
                found += [f"compbench.{a.name}" for a in node.names if a.name not in compbench.__all__]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "compbench":
            modules = [] if node.attr in compbench.__all__ else [f"compbench.{node.attr}"]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top == "compbench" and module not in PUBLIC_MODULES:
                found.append(module)
            elif top.startswith("compbench_") and top != own_package:
                found.append(module)
    return found


def test_the_check_finds_each_kind_of_non_public_use(tmp_path):
    source = tmp_path / "plugin.py"
    source.write_text("import compbench\nfrom compbench import Codec, api\nfrom compbench.metrics import LOWER\n"
                      "from compbench_datasets.mnist import read_split\nfrom compbench_codecs import _imaging\n"
                      "from . import model\n\n\ndef f():\n    from compbench.present.charts import line_chart\n"
                      "    return compbench.load_dataset, compbench.store\n")
    assert sorted(non_public_uses(source, "compbench_codecs")) == [
        "compbench.api", "compbench.metrics", "compbench.present.charts", "compbench.store",
        "compbench_datasets.mnist"]


@pytest.mark.parametrize("path", BUILT_IN_SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_built_in_plugins_import_only_the_public_api(path):
    """docs/plugins.md tells plugins to import only compbench; the built-ins are the model."""
    own = BUILT_IN_PACKAGES[path.relative_to(ROOT).parts[0]]
    assert non_public_uses(path, own) == [], f"{path.relative_to(ROOT)}: plugins use compbench's public API"


ALLOWED_IMPORTS = {"compbench", "compbench_pca", "numpy", "pytest"} | set(sys.stdlib_module_names)


@pytest.mark.parametrize("path", EXAMPLE_SOURCES, ids=lambda p: p.name)
def test_the_example_plugin_imports_only_the_public_api(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules = [node.module]
        else:
            continue
        for module in modules:
            assert module.split(".")[0] in ALLOWED_IMPORTS, f"{path.name} imports {module}"
    assert non_public_uses(path, "compbench_pca") == [], f"{path.name}: plugins use compbench's public API"


def test_the_example_plugin_passes_the_kit_on_mnist_digits(monkeypatch):
    """The same check its own suite runs in CI, here too, so a kit change that breaks it shows."""
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    from compbench_pca import PcaFactory

    digits = np.stack(load_dataset("mnist", "test").read(range(40)))
    assert_every_check_passed(check_codec(PcaFactory(), images=digits))


def test_the_readme_points_to_the_projects_own_docs():
    readme = (ROOT / "README.md").read_text()
    assert "../shared" not in readme and "/work/" not in readme
    assert "(docs/paper.md)" in readme and "(docs/plugins.md)" in readme
    for page in ("paper.md", "plugins.md"):
        assert "../shared" not in (ROOT / "docs" / page).read_text()


# -- what the public API promises --------------------------------------------------------------
def test_importing_compbench_stays_light():
    """Every command imports every plugin, and plugins import compbench: no pandas, matplotlib
    or torch until a name that needs them is called."""
    done = subprocess.run([sys.executable, "-c", "import sys, compbench; "
                           "print(sorted({'pandas', 'matplotlib', 'torch'} & set(sys.modules)))"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_line_chart_is_the_harness_chart_builder_called_lazily(tmp_path):
    from compbench.present import charts

    def parameters(function):
        return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]

    assert parameters(compbench.line_chart) == parameters(charts.line_chart)
    path = compbench.line_chart(tmp_path / "loss.png", {"train": ([1, 2, 3], [0.5, 0.2, float("nan")])},
                                xlabel="epoch", ylabel="loss", title="loss", log_y=True)
    assert path == tmp_path / "loss.png" and path.read_bytes().startswith(b"\x89PNG")


def test_resolve_settings_fills_in_defaults_parses_and_checks():
    params = (compbench.Param("step", int, 4, low=1, high=8), compbench.Param("name", str, None))
    assert compbench.resolve_settings(params, {"step": "2"}, "t") == {"step": 2, "name": None}
    assert compbench.resolve_settings(params, {}, "t") == {"step": 4, "name": None}
    with pytest.raises(CompbenchError, match="t: step=9 is out of range; valid: step=1..8"):
        compbench.resolve_settings(params, {"step": 9}, "t")
    with pytest.raises(CompbenchError, match="t: unknown parameter 'steps'"):
        compbench.resolve_settings(params, {"steps": 1}, "t")


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_says_what_register_takes(hook):
    """Typed hookspecs: register takes one public contract object and returns None."""
    register = typing.get_type_hints(getattr(hookspecs, hook))["register"]
    (taken,), returned = typing.get_args(register)
    assert returned in (None, type(None))
    assert taken is getattr(compbench, taken.__name__), f"{hook} takes a non-public {taken}"
    assert ":param register:" in getattr(hookspecs, hook).__doc__


def test_the_version_is_one_source_for_the_package_and_its_metadata():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "compbench._version.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", compbench.__version__)
    assert metadata.version("compbench") == compbench.__version__, "stale install: pip install -e ."
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{compbench.__version__}]" in changelog, "CHANGELOG.md has no section for this version"

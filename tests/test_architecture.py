"""The harness's layers import only downward, and its functions stay small (docs/architecture.md)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "compbench"
#: what each layer may import of compbench, besides itself (docs/architecture.md)
ALLOWED = {
    "metrics": {"contracts.errors"},
    "contracts": {"metrics"},
    "store": {"contracts", "metrics"},
    "run": {"contracts", "metrics"},
    "analysis": {"contracts", "metrics", "store"},
    "present": {"contracts", "metrics", "store", "run", "analysis"},
    "pipeline": {"contracts", "metrics", "store", "run", "analysis", "present"},
    "testing": {"contracts", "metrics", "run", "api"},
    "cli": {"contracts", "metrics", "store", "run", "analysis", "present", "pipeline", "api"},
}
#: modules of the package root any layer may use: they import nothing of the harness
ROOT_MODULES = ("_version", "defaults", "_deprecation")
MAX_LINES, MAX_PARAMETERS = 60, 8


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def imported(path: Path) -> set[str]:
    """compbench modules a file imports, relative to the package ("store.files")."""
    package = path.relative_to(PACKAGE).parent.parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(package[: len(package) - node.level + 1])
                names = [".".join(base + ([node.module] if node.module else []))]
                if not node.module:
                    names = [".".join(base + [alias.name]) for alias in node.names]
            elif (node.module or "").startswith("compbench."):
                names = [node.module.removeprefix("compbench.")]
            else:
                continue
            found.update(name for name in names if name)
        elif isinstance(node, ast.Import):
            found.update(a.name.removeprefix("compbench.") for a in node.names if a.name.startswith("compbench."))
    return found


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_a_layer_imports_only_the_layers_below_it(layer):
    wrong = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in imported(path):
            top = name.split(".")[0]
            if top not in (layer, *ROOT_MODULES) and top not in ALLOWED[layer] and name not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(PACKAGE)} imports compbench.{name}")
    assert not wrong, "\n".join(wrong)


def test_no_function_is_long_or_takes_many_parameters():
    found = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs if a.arg not in ("self", "cls")]
                count = len(names) + bool(args.vararg) + bool(args.kwarg)
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES or count > MAX_PARAMETERS:
                    found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}: {lines} lines, "
                                 f"{count} parameters")
    assert not found, "\n".join(found)

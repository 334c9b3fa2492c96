"""The benchmarks are not run by the tests (they time whole runs for minutes), but each must
still start: every name a benchmark takes from benchmarks/_common.py exists there (two once
imported a helper that had been renamed, and failed before measuring anything), and each
script compiles."""

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).parent.parent / "benchmarks"
SCRIPTS = sorted(BENCHMARKS.glob("bench_*.py"))


@pytest.fixture(scope="module")
def common():
    """benchmarks/_common.py, loaded as the scripts load it (by the name ``_common``)."""
    spec = importlib.util.spec_from_file_location("_common", BENCHMARKS / "_common.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["_common"] = module  # its dataclasses look their module up by name
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules["_common"]


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 10


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.stem)
def test_names_taken_from_common_exist(script, common):
    tree = ast.parse(script.read_text(), filename=str(script))
    wanted = [alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module == "_common"
              for alias in node.names]
    missing = [name for name in wanted if not hasattr(common, name)]
    assert not missing, f"{script.name} imports {missing} from _common, which has no such names"


def test_a_check_not_measured_fails_the_run_and_one_not_judged_does_not(common, capsys):
    passed = common.at_most("a", 1.0, 2.0)
    assert common.verdict_table([passed, common.not_judged("b", "<= 2", "other work")]) == 0
    assert common.verdict_table([passed, common.not_measured("c", "<= 2", "nothing measured")]) == 1
    assert common.verdict_table([common.at_most("d", 3.0, 2.0)]) == 1
    out = capsys.readouterr().out
    assert "NOT MEASURED" in out and "not judged" in out and "MISS" in out


def test_exit_codes_pass_only_when_every_run_exits_as_expected(common):
    assert common.exit_codes("help", [0, 0], 0).ok
    wrong = common.exit_codes("error", [2, 1, 2], 2)
    assert wrong.failed and "exit 1 in 1 of 3" in wrong.measured
    assert common.exit_codes("never", [], 0).status == "NOT MEASURED"

"""The command line as a new user meets it: quick help with examples, suggestions for mistyped
names, a listing that fits the terminal."""

import json
import subprocess
import sys

import pytest

from compbench.cli import build_parser, main
from compbench.cli.list_command import ladder_text, listing, param_text

#: every command: a new one needs examples and documented arguments too (cli/arguments.add_command)
COMMANDS = list(build_parser().command_parsers)


def help_of(capsys, *args) -> str:
    try:
        code = main([*args, "--help"])
    except SystemExit as exc:  # argparse's own help exits
        code = exc.code
    assert code == 0
    return capsys.readouterr().out


def error_of(capsys, *args) -> str:
    assert main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("compbench: error: ") and err.count("\n") == 1, err
    return err


def loaded_by(argv: list[str], modules: set[str], exit_code: int) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after ``main(argv)``, which must
    end with ``exit_code`` (its output is swallowed)."""
    code = ("import sys, io, contextlib\nfrom compbench.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
            "    try:\n        code = main(sys.argv[1:])\n    except SystemExit as exc:\n        code = exc.code\n"
            f"assert (code or 0) == {exit_code}, code\n"
            f"print(' '.join(sorted(set({sorted(modules)!r}) & set(sys.modules))))")
    done = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_help_imports_no_heavy_library():
    """--help is read often and must come back at once: nothing but the standard library loads."""
    assert loaded_by(["run", "--help"], {"torch", "pandas", "matplotlib", "numpy", "scipy", "pluggy"}, 0) == []


def test_a_mistyped_codec_loads_no_pandas_or_matplotlib():
    """The run's name checks come before the harness: a typo costs the plugins' import only."""
    assert loaded_by(["run", "--codecs", "jepg"], {"torch", "pandas", "matplotlib"}, 2) == []


def test_the_commands_are_all_there():
    assert {"list", "run", "report", "compare", "history", "train"} <= set(COMMANDS)


def test_the_top_level_help_describes_compbench_and_has_examples(capsys):
    text = help_of(capsys)
    assert "compbench measures image codecs" in text and '"""' not in text
    assert "examples:\n  compbench list" in text
    for command in COMMANDS:
        assert f"\n  {command} " in text


@pytest.mark.parametrize("command", COMMANDS)
def test_each_commands_help_has_an_example_and_documents_every_argument(capsys, command):
    text = help_of(capsys, command)
    assert f"examples:\n  compbench {command} " in text
    parser = build_parser().command_parsers[command]
    for action in parser._actions:
        assert action.help, f"{command}: {action.dest} has no help"


def test_train_name_help_lists_the_trainers_options(capsys):
    text = help_of(capsys, "train", "ddcae")
    assert text.startswith("usage: compbench train ddcae")
    for option in ("--epochs", "--batch-size", "--seed", "--out"):
        assert option in text
    assert "examples:\n  compbench train ddcae --epochs 30" in text


def test_train_help_without_a_name_lists_the_trainers(capsys):
    text = help_of(capsys, "train")
    assert "usage: compbench train NAME [options]" in text
    assert "trainers installed: convae, ddcae" in text


@pytest.mark.parametrize("args,message", [
    (["run", "--codecs", "jepg"], "unknown codec 'jepg'; did you mean 'jpeg'? valid: avif, "),
    (["run", "--codecs", "jpeg:qualty=50"], "jpeg: unknown parameter 'qualty'; did you mean 'quality'? valid: "),
    (["run", "--dataset", "mnsit"], "unknown dataset 'mnsit'; did you mean 'mnist'? valid: "),
    (["run", "--dataset", "folder:pth=/tmp"], "unknown parameter 'pth'; did you mean 'path'?"),
    (["run", "--codecs", "jpeg", "--rd-metrics", "msssim"], "--rd-metrics msssim: not a quality metric of this "
                                                            "run; did you mean 'ms_ssim'? valid: "),
    (["run", "--codecs", "jpeg", "--metrics-extra", "ssimulacra"], "did you mean 'ssimulacra2'?"),
    (["run", "--codecs", "jpeg", "--split", "tset"], "no split 'tset'; did you mean 'test'?"),
    (["run", "--limt", "5"], "unrecognized arguments: --limt 5; did you mean '--limit'?"),
    (["rnu"], "invalid choice: 'rnu'; did you mean 'run'?"),
    (["train", "ddcea"], "unknown trainer 'ddcea'; did you mean 'ddcae'?"),
    (["train", "ddcae", "--epohcs", "3"], "unrecognized arguments: --epohcs 3; did you mean '--epochs'?"),
    (["run", "--codecs", "jpeg:quality=10..90"], "jpeg: range quality=10..90 expands to 81 settings; give a "
                                                 "step, e.g. quality=10..90/10"),
])
def test_a_mistyped_name_gets_a_suggestion(capsys, args, message):
    assert message in error_of(capsys, *args)


def test_the_gate_metrics_option_and_its_old_name(capsys):
    parser = build_parser()
    for command in ("run", "compare"):
        args = [] if command == "run" else ["a", "b"]
        assert parser.parse_args([command, *args, "--gate-metrics", "psnr,bpp"]).gate_metrics == "psnr,bpp"
        assert parser.parse_args([command, *args, "--metrics", "psnr"]).gate_metrics == "psnr"  # the 0.1 name
    text = help_of(capsys, "compare")
    assert "--gate-metrics" in text and "--metrics " not in text  # the old name works, unlisted


def test_the_listing_fits_80_columns_and_shows_ladders(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["list"]) == 0
    text = capsys.readouterr().out
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "ladder: quality 1,5,10,...,100 (11 points)" in text
    assert "quality=75 [1..100]" in text and "psnr=30.0 [1..100]" in text
    assert "=None" not in text and "ratio [1..10000]" in text  # an unset option, without None


def test_the_wide_listing_is_one_line_per_entry(capsys):
    assert main(["list", "--wide"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert main(["list", "--json"]) == 0
    described = json.loads(capsys.readouterr().out)
    assert len(lines) == sum(len(described[kind]) for kind in ("codecs", "datasets", "trainers", "metrics"))
    (jpeg,) = [line for line in lines if line.split()[:2] == ["codec", "jpeg"]]
    assert "quality=75 [1..100]" in jpeg and "ladder: quality 1,5,10,...,100" in jpeg


def test_a_long_entry_wraps_inside_the_width():
    entry = {"name": "a-codec-with-a-very-long-name", "description": "word " * 40, "distribution": "compbench-x",
             "version": "1.0", "available": False, "reason": "needs libfoo " * 5, "fix": "apt-get install libfoo",
             "params": [{"name": f"p{i}", "default": i, "range": "0..1000000"} for i in range(12)],
             "ladder": [{"p1": 1, "p2": 2}, {"p1": 3, "p2": 4}]}
    described = {"codecs": [entry], "datasets": [], "trainers": [], "metrics": []}
    for width in (40, 80, 120):
        lines = listing(described, width).splitlines()
        assert max(len(line) for line in lines) <= width
    text = listing(described, 80)
    assert "  a-codec-with-a-very-long-name\n" in text  # a name too long for its column: a line of its own
    assert "provided by compbench-x 1.0" in text and "not available: needs libfoo" in text
    assert "fix: apt-get install libfoo" in text
    assert "ladder: p1=1:p2=2,p1=3:p2=4 (2 points)" in " ".join(text.split())


def test_parameters_and_ladders_read_compactly():
    assert param_text({"name": "weights", "default": None, "range": "str"}) == "weights [str]"
    assert param_text({"name": "batch_size", "default": 128, "range": "1..60000"}, flag=True) == \
        "--batch-size=128 [1..60000]"
    assert ladder_text([{"step": 0.35}, {"step": 0.5}, {"step": 1.0}]) == "step 0.35,0.5,1 (3 points)"

"""The ``compbench`` command.

User mistakes raise CompbenchError: one line on stderr, exit code 2, no traceback. Each command
lives in its own module, which imports the harness only when the command runs: ``--help`` and
argument errors import nothing but the standard library (``import compbench`` is lazy too).
"""

from __future__ import annotations

import atexit
import os
import sys
from typing import NoReturn

from .._version import __version__
from ..contracts.errors import CompbenchError
from ..run.interrupts import RunInterrupted
from . import (
    compare_command,
    export_command,
    history_command,
    list_command,
    report_command,
    run_command,
    train,
)
from .arguments import ArgumentParser, HelpFormatter, examples_text, unrecognized

DESCRIPTION = """\
compbench measures image codecs, learned and classic, over datasets: honest bits per pixel
(from real bitstreams that decode back to the image), quality metrics per class, RD curves
and BD-rate, and a regression gate for CI. Codecs, datasets, trainers and metrics are plugins.
"""
EXAMPLES = """\
compbench list                          # what is installed, with parameters
compbench run --codecs jpeg:quality=50,jpeg2000 --limit 1000
compbench run --dataset skimage --codecs jpeg,webp,avif --sweep  # RD curves
compbench compare results/base results/new   # exit 1 on a regression
compbench COMMAND --help                # a command's options and examples
"""


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="compbench", description=DESCRIPTION, epilog=examples_text(EXAMPLES),
                            formatter_class=HelpFormatter)
    parser.add_argument("--version", action="version", version=f"compbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser,
                                     title="commands", metavar="COMMAND")
    for command in (list_command, run_command, report_command, compare_command, history_command, export_command,
                    train):
        command.add_parser(commands)
    parser.command_parsers = commands.choices  # name -> its parser, for main's "did you mean"
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..run.allocator import return_freed_memory

    return_freed_memory()  # a run's peak memory then stays bounded (compbench.run.allocator)
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, rest = parser.parse_known_args(argv)
        if rest and args.command != "train":  # train's options come from its trainer
            raise CompbenchError(f"{unrecognized(parser.command_parsers[args.command], rest)} "
                                 f"(see: compbench {args.command} --help)")
        return args.handler(args, rest)
    except CompbenchError as exc:
        print(f"compbench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except RunInterrupted as exc:  # Ctrl-C or SIGTERM during a run: the records are kept
        print(exc.message(), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("compbench: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (compbench list | head): stop quietly, as a Unix tool does
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def command() -> NoReturn:
    """The ``compbench`` command: :func:`main`, then the exit handlers (atexit: workers
    killed, multiprocessing's children joined), then the process ends without tearing down the
    interpreter: freeing every module and object a run built took 0.2-0.3 s after its last
    line was printed, and a command has nothing left to free. ``main(argv)`` itself returns as
    usual (tests and embedding callers)."""
    code = main()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        code = code or 141
    os._exit(code)


if __name__ == "__main__":
    command()

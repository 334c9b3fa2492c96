"""compbench: a plugin-based image-compression benchmark (codecs over datasets, honest bits per
pixel, per-class metrics, regression tracking).

User mistakes raise CompbenchError: one line on stderr, exit code 2, no traceback. Each command
lives in its own module, which imports the harness only when the command runs.
"""

from __future__ import annotations

import os
import sys

from .. import __version__
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
from .arguments import ArgumentParser


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="compbench", description=__doc__.split("\n\n")[0].replace("\n", " "))
    parser.add_argument("--version", action="version", version=f"compbench {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    for command in (list_command, run_command, report_command, compare_command, history_command, export_command, train):
        command.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    from ..run.allocator import return_freed_memory

    return_freed_memory()  # a run's peak memory then stays bounded (compbench.run.allocator)
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    try:
        args, rest = parser.parse_known_args(argv)
        if rest and args.command != "train":
            raise CompbenchError(f"unrecognized arguments: {' '.join(rest)} (see: compbench {args.command} --help)")
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


if __name__ == "__main__":
    sys.exit(main())

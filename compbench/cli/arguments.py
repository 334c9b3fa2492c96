"""Argument parsing shared by every command: one-line errors with suggestions, help with
examples, and the value types."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from pathlib import Path

from ..contracts.errors import CompbenchError, did_you_mean

#: help text wider than this is hard to read, however wide the terminal
MAX_HELP_WIDTH = 100
EXAMPLES_HEADING = "examples:\n"


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Examples keep their lines (an example re-wrapped cannot be pasted); descriptions and
    option help wrap to the terminal, at most MAX_HELP_WIDTH columns, paragraph by paragraph."""

    def __init__(self, prog: str) -> None:
        width = min(shutil.get_terminal_size().columns, MAX_HELP_WIDTH) - 2
        super().__init__(prog, max_help_position=30, width=width)

    def _fill_text(self, text, width, indent):
        if text.startswith(EXAMPLES_HEADING):
            return super()._fill_text(text, width, indent)
        return "\n\n".join(textwrap.fill(" ".join(paragraph.split()), width, initial_indent=indent,
                                         subsequent_indent=indent, break_on_hyphens=False)
                           for paragraph in text.split("\n\n"))

    def _format_action(self, action):
        # the commands are listed under "commands:", as options are, without a line of their
        # own for the COMMAND placeholder
        text = super()._format_action(action)
        if action.nargs != argparse.PARSER:
            return text
        return "".join(line[2:] for line in text.splitlines(keepends=True)[1:])


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) like every other compbench error, and
    a mistyped choice or option gets a "did you mean"."""

    def error(self, message: str):
        raise CompbenchError(f"{message} (see: {self.prog} --help)")

    def parse_args(self, args=None, namespace=None):
        namespace, rest = self.parse_known_args(args, namespace)
        if rest:
            self.error(unrecognized(self, rest))
        return namespace

    def _check_value(self, action, value):
        # argparse's own check (3.11-3.13 name), with the suggestion Python 3.14 adds
        if action.choices is not None and value not in action.choices:
            choices = [str(choice) for choice in action.choices]
            raise argparse.ArgumentError(action, f"invalid choice: {value!r}{did_you_mean(str(value), choices)}"
                                                 f"valid: {', '.join(choices)}")


def unrecognized(parser: argparse.ArgumentParser, rest: list[str]) -> str:
    """``unrecognized arguments: --limt 5; did you mean '--limit'?`` (hidden aliases are never
    suggested)."""
    options = [option for action in parser._actions if action.help != argparse.SUPPRESS
               for option in action.option_strings]
    first = next((arg.partition("=")[0] for arg in rest if arg.startswith("-")), None)
    hint = did_you_mean(first, options).rstrip("; ") if first else ""
    return f"unrecognized arguments: {' '.join(rest)}{hint}"


def add_command(commands, name: str, *, summary: str, examples: str, description: str = "",
                **options) -> ArgumentParser:
    """A command's parser: ``summary`` is its line in ``compbench --help``; ``description``
    (default: the summary) and ``examples`` (lines of ``command  # what it does``) open and
    close ``compbench NAME --help``."""
    return commands.add_parser(name, help=summary, description=textwrap.dedent(description).strip() or summary,
                               epilog=examples_text(examples), formatter_class=HelpFormatter, **options)


def examples_text(examples: str) -> str:
    return EXAMPLES_HEADING + textwrap.indent(textwrap.dedent(examples).strip("\n"), "  ")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return value


def folder_path(text: str) -> Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("is empty; give a folder, e.g. --out results/mine")
    return Path(text)


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} must be more than 0")
    return value

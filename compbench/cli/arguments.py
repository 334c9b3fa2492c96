"""Argument parsing shared by every command: one-line errors and the value types."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..contracts.errors import CompbenchError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but errors are one line (no usage dump) like every other compbench error."""

    def error(self, message: str):
        raise CompbenchError(f"{message} (see: {self.prog} --help)")


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

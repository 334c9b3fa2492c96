"""Typed codec/dataset parameters: defaults, valid ranges and parsing from spec strings."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .errors import CompbenchError, did_you_mean


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a codec (or trainer).

    ``kind`` is ``int``, ``float``, ``str`` or ``bool``. ``low``/``high`` bound numbers
    (inclusive); ``choices`` restricts strings. ``default=None`` means "unset" (e.g. a
    codec whose rate is given by one of two alternative parameters). ``file=True``: the value
    is a file (weights) whose content defines the setting: a setting's label names the file's
    sha256, not its path, so two different files never share a label.
    """

    name: str
    kind: type
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple = field(default_factory=tuple)
    file: bool = False

    def describe_range(self) -> str:
        if self.choices:
            return "|".join(str(c) for c in self.choices)
        if self.low is not None or self.high is not None:
            lo = "" if self.low is None else _fmt(self.low)
            hi = "" if self.high is None else _fmt(self.high)
            return f"{lo}..{hi}"
        return self.kind.__name__

    def parse(self, text: str, owner: str) -> Any:
        """Convert ``text`` to this parameter's type and check its range."""
        try:
            if self.kind is bool:
                lowered = text.lower()
                if lowered not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError
                value: Any = lowered in ("1", "true", "yes")
            else:
                value = self.kind(text)
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError
        except ValueError:
            raise CompbenchError(
                f"{owner}: {self.name}={text!r} is not a valid {self.kind.__name__}; "
                f"valid: {self.name}={self.describe_range()}"
            ) from None
        self.check(value, owner)
        return value

    def check(self, value: Any, owner: str) -> None:
        if isinstance(value, float) and not math.isfinite(value):
            raise CompbenchError(f"{owner}: {self.name}={value} is not a finite number; "
                                 f"valid: {self.name}={self.describe_range()}")
        out_of_range = (
            (self.choices and value not in self.choices)
            or (self.low is not None and value < self.low)
            or (self.high is not None and value > self.high)
        )
        if out_of_range:
            raise CompbenchError(
                f"{owner}: {self.name}={value} is out of range; valid: "
                f"{self.name}={self.describe_range()}"
            )

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.kind.__name__,
            "default": self.default,
            "range": self.describe_range(),
            "help": self.help,
        }


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def resolve_settings(params: tuple[Param, ...], given: dict[str, str | Any], owner: str) -> dict:
    """Merge user-given values (strings from a spec, or typed values from Python) with defaults.

    Unknown names raise a CompbenchError listing the valid ones.
    """
    by_name = {p.name: p for p in params}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        valid = ", ".join(f"{p.name}={p.describe_range()}" for p in params) or "(none)"
        raise CompbenchError(f"{owner}: unknown parameter {unknown[0]!r}{did_you_mean(unknown[0], by_name)}"
                             f"valid: {valid}")
    settings = {p.name: p.default for p in params}
    for name, value in given.items():
        param = by_name[name]
        if isinstance(value, str) and param.kind is not str:
            settings[name] = param.parse(value, owner)
        else:
            param.check(value, owner)
            settings[name] = value
    return settings

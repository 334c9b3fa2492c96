"""How far a metric may move between two runs and still count as unchanged: tolerances from the
command line (``psnr=0.05``, ``bpp=1%``) or a config file.

Tolerance config (:func:`load_tolerances`), the same table in either file:

    # pyproject.toml                      # compbench.toml
    [tool.compbench.compare.tolerances]   [compare.tolerances]
    psnr = { abs = 0.05 }                 psnr = { abs = 0.05 }
    bpp = { rel = 0.01 }                  bpp = "1%"
    ssim = 0.0005                         # a bare number is absolute

A tolerance may give both ``abs`` and ``rel``; the larger allowance wins.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ..contracts.errors import CompbenchError


@dataclass(frozen=True)
class Tolerance:
    """How far a metric may move and still count as unchanged: the larger of ``absolute``
    and ``relative`` times the baseline value."""

    absolute: float = 0.0
    relative: float = 0.0

    def allowed(self, baseline: float) -> float:
        return max(self.absolute, self.relative * abs(baseline))

    def __str__(self) -> str:
        if self == DEFAULT_TOLERANCE:
            return "exact"
        parts = ([f"±{self.absolute:g}"] if self.absolute else []) + \
                ([f"{100 * self.relative:g}%"] if self.relative else [])
        return " or ".join(parts) or "exact"


#: runs are deterministic: allow float noise only, so exact equality passes and nothing else
DEFAULT_TOLERANCE = Tolerance(absolute=1e-12, relative=1e-9)


#: wall times vary from run to run even on one machine
TIMING_TOLERANCE = Tolerance(relative=0.5)


_FLAG_HELP = "expected METRIC=NUMBER (absolute) or METRIC=NUMBER% (relative), e.g. psnr=0.05 or bpp=1%"


def parse_tolerance_flag(text: str) -> tuple[str, Tolerance]:
    """``"psnr=0.05"`` -> ("psnr", ±0.05); ``"bpp=1%"`` -> ("bpp", 1% of the baseline)."""
    match = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*=\s*(\S+)\s*", text)
    if not match:
        raise CompbenchError(f"bad tolerance {text!r}: {_FLAG_HELP}")
    return match[1], parse_tolerance(match[2], where=f"tolerance {text!r}")


def parse_tolerance(value, where: str = "tolerance") -> Tolerance:
    """A Tolerance from a number (absolute), "1%" (relative), "0.05", or {abs = .., rel = ..}."""
    if isinstance(value, Tolerance):
        return value
    if isinstance(value, dict):
        unknown = set(value) - {"abs", "rel"}
        if unknown:
            raise CompbenchError(f"{where}: unknown key {', '.join(sorted(unknown))} (use abs and/or rel)")
        return Tolerance(_non_negative(value.get("abs", 0.0), where), _non_negative(value.get("rel", 0.0), where))
    if isinstance(value, str) and value.strip().endswith("%"):
        return Tolerance(relative=_non_negative(value.strip()[:-1], where) / 100)
    return Tolerance(absolute=_non_negative(value, where))


def _non_negative(value, where: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not number >= 0 or math.isinf(number):
        raise CompbenchError(f"{where}: {value!r} is not a non-negative number; {_FLAG_HELP}")
    return number


def _tolerance_table(path: Path, data: dict) -> dict | None:
    scope = data.get("tool", {}).get("compbench", {}) if path.name == "pyproject.toml" else data
    return scope.get("compare", {}).get("tolerances")


def load_tolerances(path: str | Path) -> dict[str, Tolerance]:
    """Tolerances from ``[tool.compbench.compare.tolerances]`` of a pyproject.toml, or
    ``[compare.tolerances]`` of any other TOML file (compbench.toml)."""
    path = Path(path)
    data = _read_toml(path)
    table = _tolerance_table(path, data)
    where = "[tool.compbench.compare.tolerances]" if path.name == "pyproject.toml" else "[compare.tolerances]"
    if not isinstance(table, dict):
        raise CompbenchError(f"{path} has no {where} table of tolerances")
    return {metric: parse_tolerance(value, where=f"{path} {where} {metric}") for metric, value in table.items()}


def discover_config(start: str | Path | None = None) -> Path | None:
    """The nearest compbench.toml, or pyproject.toml with compbench tolerances, from ``start``
    (default: the current folder) up to the file-system root; None if there is none."""
    folder = Path(start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "compbench.toml").is_file():
            return candidate / "compbench.toml"
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file() and _tolerance_table(pyproject, _read_toml(pyproject)) is not None:
            return pyproject
    return None


def _read_toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise CompbenchError(f"tolerance config {path} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CompbenchError(f"{path} is not valid TOML ({exc})") from None



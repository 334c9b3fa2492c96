"""What a learned codec or trainer needs installed, checked without importing it (torch alone
takes seconds): ``libraries`` are (import name, distribution name) pairs."""

from __future__ import annotations

import importlib.util
from importlib import metadata

from compbench import Availability


def first_missing(libraries: tuple[tuple[str, str], ...]) -> Availability | None:
    """The unavailability naming the first library not installed; None when all are."""
    for module, package in libraries:
        if importlib.util.find_spec(module) is None:
            return Availability.missing_module(module, package)
    return None


def versions(libraries: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """Installed version of each distribution, "not installed" for a missing one."""
    found = {}
    for _, package in libraries:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found

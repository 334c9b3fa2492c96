"""Spec strings: codecs (``jpeg:quality=50,jpeg2000:psnr=30``) into resolved codec settings, and
a dataset (``folder:path=DIR``) into its name and parameters.

Grammar: codecs are separated by commas; a codec is ``name[:key=value[:key=value...]]``; a
comma-separated ``key=value`` with no codec name continues the previous codec
(``jpeg2000:psnr=30,numres=2``). A value may be a range ``10..90/10`` or a list ``10|50|90``,
which expands to one setting per value.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..contracts.codec import CodecFactory
from ..contracts.errors import CompbenchError
from ..contracts.params import resolve_settings


@dataclass(frozen=True)
class CodecSpec:
    """One codec at one setting, resolved against its factory's parameters."""

    name: str
    settings: tuple[tuple[str, Any], ...]
    label: str

    @property
    def kwargs(self) -> dict[str, Any]:
        return dict(self.settings)

    def __hash__(self) -> int:
        # by the label alone (one label per setting; equal specs have equal labels): a str keeps
        # its hash, and the local pool hashes each queued unit's spec whenever it hands out work
        return hash(self.label)


def make_spec(factory: CodecFactory, given: dict[str, Any]) -> CodecSpec:
    """Resolve user-given values against the factory: defaults, ranges, alternatives, its own
    checks; the label is made from the settings that will run."""
    settings = resolve_settings(factory.params, given, owner=factory.name)
    for group in factory.exclusive:
        chosen = [name for name in group if name in given]
        if len(chosen) > 1:
            raise CompbenchError(f"{factory.name}: {' and '.join(chosen)} are alternatives; give one of "
                                 f"{', '.join(group)}")
        if chosen:  # the alternatives' defaults do not apply
            settings.update({name: None for name in group if name != chosen[0]})
    factory.validate(settings)
    return CodecSpec(factory.name, tuple(settings.items()), setting_label(factory, settings, given))


def setting_label(factory: CodecFactory, settings: dict, given: dict) -> str:
    """``jpeg:quality=75``: the rate parameters plus whatever differs from the defaults; a file
    parameter (``Param.file``) by its content: ``ddcae:step=0.7,weights=sha256:1f2e3d4c5b6a``."""
    params = {p.name: p for p in factory.params}
    shown = [
        f"{name}={file_digest(value) if params[name].file else _fmt(value)}"
        for name, value in settings.items()
        if value is not None and (name in factory.rate_params or value != params[name].default or name in given)
    ]
    return factory.name + (":" + ",".join(shown) if shown else "")


#: hex digits of a file's sha256 in a setting's label
LABEL_DIGEST = 12


def file_digest(path) -> str:
    """``sha256:<first 12 hex digits>`` of a file's bytes; a missing file is a one-line error."""
    try:
        with open(Path(path).expanduser(), "rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise CompbenchError(f"cannot read {path} ({exc.strerror}); give an existing file") from None
    return f"sha256:{digest[:LABEL_DIGEST]}"


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def split_spec_text(text: str) -> list[tuple[str, dict[str, str]]]:
    """Split the text into (codec name, {param: raw value}) without resolving anything."""
    parsed: list[tuple[str, dict[str, str]]] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        if "=" in token.split(":", 1)[0]:  # a continuation: key=value for the previous codec
            if not parsed:
                raise CompbenchError(f"codec spec {text!r}: {token!r} comes before any codec name; "
                                     "write e.g. jpeg:quality=50")
            name, parts = parsed[-1][0], [token]
        else:
            name, *parts = token.split(":")
            name = name.strip()
            parsed.append((name, {}))
        for part in parts:
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key or not value:
                raise CompbenchError(f"codec spec {text!r}: {part!r} is not key=value; "
                                     "write e.g. jpeg:quality=50")
            if key in parsed[-1][1]:
                raise CompbenchError(f"codec spec {text!r}: {name} is given {key}= twice; give each "
                                     "parameter once (a list of values is written quality=10|50)")
            parsed[-1][1][key] = value
    if not parsed:
        raise CompbenchError("no codec given; write e.g. --codecs jpeg,jpeg2000 (see: compbench list)")
    return parsed


#: the most settings one --codecs may expand to: a typo like quality=1..2e7 stops here, before
#: anything is allocated
MAX_SETTINGS = 1000
#: the most values a range without a step may give: past it ``quality=10..90`` (81 settings,
#: one per integer) is far more likely a forgotten ``/10`` than a wish for an hour-long run
MAX_UNSTEPPED = 20


def expand_values(raw: str, owner: str, key: str = "quality") -> list[str]:
    """``10..90/10`` -> 10, 20, ... 90; ``1|2|5`` -> 1, 2, 5; anything else -> itself. ``key``,
    the parameter's name, is for the error messages."""
    if "|" in raw:
        values = [v.strip() for v in raw.split("|")]
        if not all(values):
            raise CompbenchError(f"{owner}: list {raw!r} has an empty value; write e.g. {key}=10|50|90")
        return values
    if ".." not in raw:
        return [raw]
    bounds, _, step = raw.partition("/")
    low, _, high = bounds.partition("..")
    try:
        lo, hi = float(low), float(high)
        stride = float(step) if step else 1.0
        if not all(math.isfinite(v) for v in (lo, hi, stride)):
            raise ValueError
    except ValueError:
        raise CompbenchError(f"{owner}: range {raw!r} is not start..stop/step with finite numbers; "
                             f"write e.g. {key}=10..90/10") from None
    if stride <= 0 or hi < lo:
        raise CompbenchError(f"{owner}: range {raw!r} is empty; write e.g. {key}=10..90/10")
    # the values up to ``stop``, never past it (10..95/10 ends at 90); the tolerance keeps a
    # stop that float steps miss by a rounding error (0..0.3/0.1)
    count = math.floor((hi - lo) / stride * (1 + 1e-9)) + 1
    if count > MAX_SETTINGS:
        raise CompbenchError(f"{owner}: range {raw!r} expands to {count} settings, more than "
                             f"{MAX_SETTINGS}; use a larger step")
    if not step and count > MAX_UNSTEPPED:
        raise CompbenchError(f"{owner}: range {key}={raw} expands to {count} settings; give a step, e.g. "
                             f"{key}={low.strip()}..{high.strip()}/{suggested_step(hi - lo):g}")
    values = lo + stride * np.arange(count)
    integral = all(s.strip().lstrip("-").isdigit() for s in (low, high, step or "1"))
    return [str(int(round(v))) if integral else f"{v:g}" for v in values]


def suggested_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) that cuts ``span`` into at most 10 parts."""
    target = span / 10
    power = 10.0 ** math.floor(math.log10(target))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= target * (1 - 1e-9))


def parse_codec_specs(text: str, registry, sweep: bool = False) -> list[CodecSpec]:
    """Resolve a ``--codecs`` string into specs; ``sweep`` uses each codec's default ladder
    unless its rate parameters are given."""
    specs: list[CodecSpec] = []
    for name, raw_params in split_spec_text(text):
        factory = registry.codec(name)
        expanded = {key: expand_values(value, name, key) for key, value in raw_params.items()}
        combinations = math.prod(len(values) for values in expanded.values())
        if len(specs) + combinations > MAX_SETTINGS:
            raise CompbenchError(f"codec spec {text!r} expands to more than {MAX_SETTINGS} settings; "
                                 "use fewer values or larger steps")
        combos = [dict(zip(expanded, values)) for values in itertools.product(*expanded.values())]
        for given in combos:
            if sweep and factory.ladder and not set(given) & set(factory.rate_params):
                specs.extend(make_spec(factory, {**point, **given}) for point in factory.ladder)
            else:
                specs.append(make_spec(factory, given))
    labels = [s.label for s in specs]
    duplicate = next((label for label in labels if labels.count(label) > 1), None)
    if duplicate:
        raise CompbenchError(f"codec setting {duplicate!r} is given twice; list each setting once")
    return specs


def parse_dataset_spec(text: str) -> tuple[str, dict[str, str]]:
    """``folder:path=/data/kodak`` -> ("folder", {"path": "/data/kodak"}). A value may hold ``:``
    (only ``:key=`` starts a new parameter)."""
    name, *parts = re.split(r":(?=[A-Za-z_][\w-]*=)", text.strip())
    settings: dict[str, str] = {}
    for part in parts:
        key, _, value = part.partition("=")
        if key in settings:
            raise CompbenchError(f"dataset spec {text!r} gives {key}= twice; give each parameter once")
        settings[key] = value
    if not name or ":" in name:
        raise CompbenchError(f"dataset spec {text!r} is not name[:key=value...]; write e.g. "
                             "--dataset folder:path=DIR")
    return name, settings

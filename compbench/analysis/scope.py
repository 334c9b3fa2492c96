"""What a comparison covers: every row of both runs (the default: a setting on one side only
is a mismatch), the codecs named (``--codecs``), or the settings both runs have
(``--only-common``); what is left out is said, never dropped silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from ..contracts.errors import CompbenchError
from ..store.results_folder import KEYS, name_rows


@dataclass(frozen=True)
class Scope:
    """The two summaries cut to what is compared, and one line for each thing left out."""

    base: pd.DataFrame
    new: pd.DataFrame
    notes: tuple[str, ...] = ()


def parse_codec_names(text: str | None) -> tuple[str, ...] | None:
    """``"jpeg,jpeg2000:psnr=30"`` -> ("jpeg", "jpeg2000"): codec names of specs (None stays None)."""
    if text is None:
        return None
    names = tuple(dict.fromkeys(part.split(":")[0].strip() for part in text.split(",")
                                if part.strip() and "=" not in part.split(":")[0]))
    if not names:
        raise CompbenchError(f"--codecs {text!r} names no codec; give codec names, e.g. --codecs jpeg,jpeg2000")
    return names


def comparison_scope(base: pd.DataFrame, new: pd.DataFrame, codecs: Sequence[str] | None = None,
                     only_common: bool = False, sides: tuple[str, str] = ("baseline", "new run")) -> Scope:
    """Both summaries cut to ``codecs`` (each must be on both sides) and, with ``only_common``,
    to the (setting, dataset, split, class) rows both have (at least one)."""
    notes = []
    if codecs:
        for side, summary in zip(sides, (base, new)):
            present = list(dict.fromkeys(summary["codec"]))
            absent = [c for c in codecs if c not in present]
            if absent:
                raise CompbenchError(f"codec {', '.join(absent)} is not in the {side} (its codecs: "
                                     f"{', '.join(present)}); name codecs both runs have")
        left_out = {side: sorted(set(summary["codec"]) - set(codecs)) for side, summary in zip(sides, (base, new))}
        if any(left_out.values()):
            notes.append(f"compared only {', '.join(codecs)}; left out: " +
                         "; ".join(f"{side} {', '.join(names)}" for side, names in left_out.items() if names))
        base, new = base[base["codec"].isin(codecs)], new[new["codec"].isin(codecs)]
    if only_common:
        marked = base[KEYS].merge(new[KEYS], on=KEYS, how="outer", indicator=True)
        if not (marked["_merge"] == "both").any():
            raise CompbenchError(f"the {sides[0]} and the {sides[1]} have no setting in common: nothing to compare")
        for side, which in zip(sides, ("left_only", "right_only")):
            alone = marked[marked["_merge"] == which]
            if len(alone):
                notes.append(f"left out {alone['setting'].nunique()} setting(s) only the {side} has: "
                             f"{name_rows(alone)}")
        common = marked.loc[marked["_merge"] == "both", KEYS]
        base, new = base.merge(common, on=KEYS), new.merge(common, on=KEYS)
    return Scope(base.reset_index(drop=True), new.reset_index(drop=True), tuple(notes))

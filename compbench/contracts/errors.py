"""The one exception type for mistakes a user can make (bad spec, missing file, ...).

Its message is a single line that names the input and the fix; the CLI prints it and exits 2
without a traceback. Anything else that escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

from collections.abc import Iterable


class CompbenchError(Exception):
    """A user-facing error: one line, names the input and how to fix it."""

    exit_code = 2


class PluginError(CompbenchError):
    """A plugin broke the plugin contract (duplicate name, bad registration)."""


def did_you_mean(name: str, valid: Iterable[str]) -> str:
    """The words between a mistyped name and the list of valid ones. When one is close
    (difflib's ratio, case ignored; the closest only, as git and click suggest)::

        f"unknown codec {name!r}{did_you_mean(name, codecs)}valid: {', '.join(codecs)}"
        # unknown codec 'jepg'; did you mean 'jpeg'? valid: avif, ...

    and when none is, just the separator: ``unknown codec 'x'; valid: avif, ...``.
    """
    import difflib  # only once something is mistyped: every command imports this module

    by_folded = {choice.casefold(): choice for choice in valid}
    close = difflib.get_close_matches(name.casefold(), list(by_folded), n=1, cutoff=0.6)
    return f"; did you mean {by_folded[close[0]]!r}? " if close else "; "

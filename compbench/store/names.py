"""How a name from a dataset (a class, a file) is written into results: as text every file
format can hold and every reader parses, whatever bytes the file system allowed.

- bytes that are not UTF-8 (a Latin-1 ``café`` on a UTF-8 system reaches Python as
  ``caf\\udce9``) are written as Python's backslash escape of the byte: ``caf\\xe9``;
- control characters (newline, tab, ...) as their escapes: ``a\\nb``; so one record is one line
  of records.csv, and two names that differ only there stay two names.

Everything else (``|``, ``<script>``, a leading ``=``) is kept as it is: each output escapes it
for its own format (Markdown, HTML); CSV files are data and hold it verbatim (docs/datasets.md).
"""

from __future__ import annotations

#: control characters as backslash escapes (\\n, \\t, \\r; \\xNN for the others)
_CONTROL = {code: f"\\x{code:02x}" for code in (*range(32), 127)} | {9: "\\t", 10: "\\n", 13: "\\r"}


def written_name(name) -> str:
    """``name`` as results write it (see the module docstring); unchanged when it is plain."""
    text = str(name)
    if text.isprintable():
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace").translate(_CONTROL)

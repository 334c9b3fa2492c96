"""How a name from a dataset (a class, a file) is written into results: as text every file
format can hold and every reader parses, whatever bytes the file system allowed.

- bytes that are not UTF-8 (a Latin-1 ``café`` on a UTF-8 system reaches Python as
  ``caf\\udce9``) are written as Python's backslash escape of the byte: ``caf\\xe9``;
- control characters (newline, tab, ...) as their escapes: ``a\\nb``; C1 controls and the
  Unicode line and paragraph separators as ``\\u0085``, ``\\u2028``; so one record is one line of
  records.csv, whichever way a reader splits lines;
- a backslash as two (``a\\\\b``), so the escapes cannot be confused with a name that holds
  them literally: two different names are never written the same (a file named ``caf\\xe9``
  beside the Latin-1 ``café`` stays two images, and ``--resume`` tells them apart).

Everything else (``|``, ``<script>``, a leading ``=``) is kept as it is: each output escapes it
for its own format (Markdown, HTML); CSV files are data and hold it verbatim (docs/datasets.md).

Messages (an image's error, why a file was skipped) are written with :func:`written_text`: the
same escapes, but a backslash stays one (a message is read, never matched as a key).
"""

from __future__ import annotations

#: control characters as backslash escapes (\\n, \\t, \\r; \\xNN for the others); C1 controls
#: and the line/paragraph separators (line breaks to str.splitlines, JavaScript, ...) as \\uNNNN,
#: which no undecodable byte (\\xNN) can be confused with
_CONTROL = ({code: f"\\x{code:02x}" for code in (*range(32), 127)} | {9: "\\t", 10: "\\n", 13: "\\r"}
            | {code: f"\\u{code:04x}" for code in (*range(0x80, 0xA0), 0x2028, 0x2029)})


def written_name(name) -> str:
    """``name`` as results write it (see the module docstring); unchanged when it is plain.
    Different names are written differently."""
    text = str(name)
    if text.isprintable() and "\\" not in text:
        return text
    return _escaped(text.replace("\\", "\\\\"))


def written_text(text) -> str:
    """A message as one line of text every file format holds: undecodable bytes and control
    characters escaped as in :func:`written_name`, backslashes kept as they are."""
    text = str(text)
    return text if text.isprintable() else _escaped(text)


def _escaped(text: str) -> str:
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace").translate(_CONTROL)

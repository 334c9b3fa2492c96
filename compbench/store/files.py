"""Writing a results folder's files so a reader never sees one half-written or empty.

Every file goes to a temporary file in the same folder and is renamed over its final name
(``os.replace`` is atomic on one file system): a run killed at any moment leaves either the old
file or the new one. A failed write (disk full, no permission) removes the temporary file and
raises :class:`CompbenchError` naming the file and the cause.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..contracts.errors import CompbenchError

#: what a user can do about a results file that could not be written
WRITE_FIX = "free space or choose another --out"


def cannot_write(path: Path, exc: OSError, fix: str = WRITE_FIX) -> CompbenchError:
    """The one-line error for a file that could not be written."""
    cause = exc.strerror or str(exc) or type(exc).__name__
    return CompbenchError(f"cannot write {path} ({cause}); {fix}")


@contextmanager
def replacing(path: str | Path, fix: str = WRITE_FIX) -> Iterator[Path]:
    """A temporary path to write ``path``'s new content to; renamed over ``path`` when the block
    ends without an error, removed otherwise. For libraries that write files themselves."""
    path = Path(path)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield temp
        os.replace(temp, path)
    except OSError as exc:
        _remove(temp)
        raise cannot_write(path, exc, fix) from None
    except BaseException:
        _remove(temp)
        raise


def write_atomic(path: str | Path, content: str | bytes, fix: str = WRITE_FIX) -> Path:
    """Write text (UTF-8) or bytes to ``path`` through a temporary file; ``fix``: what the
    one-line error of a failed write tells the user to do."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    with replacing(path, fix) as temp:
        with open(temp, "wb") as file:
            file.write(data)
    return Path(path)


def write_json(path: str | Path, value) -> Path:
    return write_atomic(path, json.dumps(value, indent=2, default=str) + "\n")


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass

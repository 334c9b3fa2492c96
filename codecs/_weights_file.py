"""The container both learned codecs keep their weights in: a safetensors file whose metadata
is one JSON entry (sorted keys, so the same inputs give the same bytes) carrying a sha256 over
every tensor and the metadata itself.

safetensors holds only arrays and a str -> str map, so reading cannot run code (unlike a
pickle). Numpy only: checking a file (a factory's ``available()``) must not import torch.
What the tensors mean and the fix a refusal names are each codec's own: it subclasses
``WeightsError`` and passes ``refuse``, which turns a problem ("missing", "corrupt (...)")
into its own error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from compbench import CompbenchError


class WeightsError(CompbenchError):
    """A weights file that is missing, corrupt or not for this codec: one line naming the file
    and the fix; ``problem`` is the same without the fix (for ``available()``)."""

    def __init__(self, path: Path, problem: str, kind: str, fix: str) -> None:
        self.problem = f"{kind} weights file {path}: {problem}"
        super().__init__(f"{self.problem}; {fix}")


def write(path: Path, tensors: dict[str, np.ndarray], info: dict, metadata_key: str) -> str:
    """Write the file atomically (a crash leaves the old file intact); returns its sha256, which
    is also stored in ``info["sha256"]``."""
    info["sha256"] = digest(tensors, info)
    from safetensors.numpy import save as serialize

    data = serialize(tensors, metadata={metadata_key: json.dumps(info, sort_keys=True)})
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
    return info["sha256"]


def read(path: Path, metadata_key: str, kind: str,
         refuse: Callable[[str], Exception]) -> tuple[dict[str, np.ndarray], dict]:
    """The tensors and metadata of a file, not yet checked against the digest (the caller checks
    the format first, then :func:`digest`). Any unreadable file raises ``refuse(problem)``;
    ``kind`` names the codec in "not a {kind} weights file"."""
    from safetensors import SafetensorError, safe_open

    if not path.is_file():
        raise refuse("missing")
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
            # safe_open is not iterable, so keys() it is
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
        if metadata_key not in metadata:
            raise refuse(f"not a {kind} weights file (no {metadata_key!r} metadata)")
        info = json.loads(metadata[metadata_key])
        if not isinstance(info, dict):
            raise TypeError("metadata is not a JSON object")
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise refuse(f"corrupt ({reason})") from None
    return tensors, info


def digest(tensors: dict[str, np.ndarray], info: dict) -> str:
    """sha256 over names, dtypes, shapes and little-endian bytes of every tensor in sorted
    order, then the metadata as sorted JSON (less the digest itself). Shipped files carry it:
    any change to this function must keep every byte it hashes."""
    h = hashlib.sha256()
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        little = a.dtype.newbyteorder("<")
        h.update(f"{name}:{little.str}:{a.shape};".encode())
        h.update(a.astype(little, copy=False).tobytes())
    h.update(json.dumps({k: v for k, v in info.items() if k != "sha256"}, sort_keys=True).encode())
    return h.hexdigest()

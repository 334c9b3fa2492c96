"""A folder of your own images as a dataset: ``--dataset folder:path=DIR``.

The ImageFolder layout: each subfolder of DIR is a class holding the image files found at any
depth below it; files directly in DIR form one more class, named after DIR. docs/datasets.md
describes the layout, the conversion rule and what is skipped.
"""

from __future__ import annotations

import os
from pathlib import Path

from compbench import CompbenchError, DatasetAdapter, Param, hookimpl

from .image_files import FileImageSource, reason

#: the class of files directly in DIR when DIR's own name is unusable or taken by a subfolder
ROOT_CLASS = "."
LAYOUT = "image files directly in it or in one subfolder per class"


class FolderDataset(DatasetAdapter):
    name = "folder"
    description = ("your images: folder:path=DIR, one subfolder per class; PNG, JPEG, TIFF, WebP, ... "
                   "(anything Pillow reads), gray and colour, mixed sizes")
    splits = ("all",)
    default_split = "all"
    params = (
        Param("path", str, None, "the folder of images: one subfolder per class; files directly in "
                                 "it form one class named after it"),
        Param("strict", bool, False, "refuse files whose conversion to 8-bit gray/RGB discards data "
                                     "(alpha, 16-bit depth, CMYK, extra frames) instead of converting them"),
        Param("check", str, "decode", "decode: decode every file once when opening, so a corrupt file "
                                      "is skipped up front; header: read headers only (faster to open, "
                                      "a corrupt file fails when read)", choices=("decode", "header")),
    )

    def open(self, split: str, path: str | None = None, strict: bool = False,
             check: str = "decode") -> FileImageSource:
        self.check_split(split)
        root = folder_root(path)
        candidates, class_order, unlisted = list_folder(root)
        source = FileImageSource(candidates, class_order, strict=strict, check=check, skipped=unlisted)
        if len(source) == 0:
            raise CompbenchError(f"folder {root} has no readable images ({why_empty(source.skipped)}); "
                                 f"put {LAYOUT}")
        return source


def folder_root(path: str | None) -> Path:
    """The folder named by ``path``, checked to exist."""
    if not path:
        raise CompbenchError("dataset folder needs a path; use --dataset folder:path=DIR, "
                             f"DIR holding {LAYOUT}")
    root = Path(path).expanduser()
    if not root.exists():
        raise CompbenchError(f"dataset folder: {root} does not exist; give an existing folder as "
                             "--dataset folder:path=DIR")
    if not root.is_dir():
        raise CompbenchError(f"dataset folder: {root} is a file, not a folder; give the folder holding "
                             f"{LAYOUT}")
    return root


def list_folder(root: Path) -> tuple[list[tuple[str, Path, str]], list[str], list[tuple[str, str]]]:
    """Every file under ``root`` as (relative POSIX path, path, class name), sorted by class then
    path; the class names in order; and the folders that could not be listed, with the reason.
    Folders whose name starts with "." are not searched."""
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        raise CompbenchError(f"dataset folder: cannot list {root} ({reason(exc)}); give a folder you "
                             "can read") from None
    subfolders = [entry.name for entry in entries if entry.is_dir() and not entry.name.startswith(".")]
    own_name = root.resolve().name
    root_class = own_name if own_name and own_name not in subfolders else ROOT_CLASS
    candidates = [(entry.name, entry, root_class) for entry in entries if not entry.is_dir()]
    unlisted: list[tuple[str, str]] = []

    def unreadable(exc: OSError) -> None:
        unlisted.append((Path(exc.filename).relative_to(root).as_posix() + "/", reason(exc)))

    for class_name in subfolders:
        for folder, dirs, files in os.walk(root / class_name, onerror=unreadable):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for file in files:
                path = Path(folder, file)
                candidates.append((path.relative_to(root).as_posix(), path, class_name))
    candidates.sort(key=lambda c: (c[2], c[0]))
    return candidates, sorted({*subfolders, root_class}), unlisted


def why_empty(skipped: tuple[tuple[str, str], ...]) -> str:
    if not skipped:
        return "it holds no files"
    name, reason = skipped[0]
    return f"{len(skipped)} file{'s' * (len(skipped) != 1)} skipped, first: {name}: {reason}"


@hookimpl
def register_datasets(register):
    register(FolderDataset())

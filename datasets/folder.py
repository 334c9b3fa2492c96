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
OUTSIDE = "a symbolic link leading outside the folder (follow_links=true uses it)"
LOOP = "a symbolic link to a folder above it (a loop): not followed"


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
        Param("follow_links", bool, False, "use files and folders that symbolic links lead to outside the "
                                           "folder (by default they are skipped, with the reason)"),
    )

    def open(self, split: str, path: str | None = None, strict: bool = False,
             check: str = "decode", follow_links: bool = False) -> FileImageSource:
        self.check_split(split)
        root = folder_root(path)
        candidates, class_order, unlisted = list_folder(root, follow_links)
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


def list_folder(root: Path, follow_links: bool = False
                ) -> tuple[list[tuple[str, Path, str]], list[str], list[tuple[str, str]]]:
    """Every file under ``root`` as (relative POSIX path, path, class name), sorted by class then
    path; the class names in order; and what was left out (folders that could not be listed,
    links leading outside ``root`` unless ``follow_links``), with the reason. Folders whose
    name starts with "." are not searched."""
    try:
        entries = sorted(root.iterdir())
    except OSError as exc:
        raise CompbenchError(f"dataset folder: cannot list {root} ({reason(exc)}); give a folder you "
                             "can read") from None
    inside = root.resolve()
    left_out: list[tuple[str, str]] = []
    kept = []
    for entry in entries:
        if not follow_links and entry.is_symlink() and not entry.resolve().is_relative_to(inside):
            left_out.append((entry.name + ("/" if entry.is_dir() else ""), OUTSIDE))
        else:
            kept.append(entry)
    subfolders = [entry.name for entry in kept if entry.is_dir() and not entry.name.startswith(".")]
    own_name = inside.name
    root_class = own_name if own_name and own_name not in subfolders else ROOT_CLASS
    candidates = [(entry.name, entry, root_class) for entry in kept if not entry.is_dir()]

    def unreadable(exc: OSError) -> None:
        left_out.append((Path(exc.filename).relative_to(root).as_posix() + "/", reason(exc)))

    for class_name in subfolders:
        for folder, dirs, files in os.walk(root / class_name, onerror=unreadable, followlinks=follow_links):
            dirs[:] = [d for d in dirs if not d.startswith(".") and _walked(root, Path(folder, d), inside, follow_links,
                                                                             left_out)]
            for file in files:
                path = Path(folder, file)
                name = path.relative_to(root).as_posix()
                if not follow_links and path.is_symlink() and not path.resolve().is_relative_to(inside):
                    left_out.append((name, OUTSIDE))
                else:
                    candidates.append((name, path, class_name))
    candidates.sort(key=lambda c: (c[2], c[0]))
    return candidates, sorted({*subfolders, root_class}), left_out


def _walked(root: Path, folder: Path, inside: Path, follow_links: bool, left_out: list[tuple[str, str]]) -> bool:
    """Whether the walk goes into ``folder``; a linked folder leading outside ``root`` (unless
    ``follow_links``) or back to a folder above it (a loop: it would list the same files again
    and again) is left out, with the reason."""
    if not folder.is_symlink():
        return True
    target, name = folder.resolve(), folder.relative_to(root).as_posix() + "/"
    if not follow_links:  # os.walk does not go into linked folders then; say why when it leads outside
        if not target.is_relative_to(inside):
            left_out.append((name, OUTSIDE))
        return False
    if folder.parent.resolve().is_relative_to(target):
        left_out.append((name, LOOP))
        return False
    return True


def why_empty(skipped: tuple[tuple[str, str], ...]) -> str:
    if not skipped:
        return "it holds no files"
    name, reason = skipped[0]
    return f"{len(skipped)} file{'s' * (len(skipped) != 1)} skipped, first: {name}: {reason}"


@hookimpl
def register_datasets(register):
    register(FolderDataset())

"""Image files as benchmark input: the rule that turns each Pillow mode into 8-bit gray or RGB,
header probing (size and mode without decoding), and an ImageSource over a list of files.

Every conversion is noted per file (``FileImageSource.conversions``) so a results manifest can
list it; a file that cannot be read or whose mode the rule refuses is skipped with its reason
(``FileImageSource.skipped``). docs/datasets.md states the rule for users.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from compbench import CompbenchError, ImageSource

GRAY, RGB = "L", "RGB"
#: EXIF/TIFF tag holding the display orientation
ORIENTATION_TAG = 274
#: the raw mode of a file's first tile says whether it stores 16 bits per channel
SIXTEEN_BIT_RAWMODE = re.compile(r";16[BLN]$")
DEEP_NOTE = "16-bit -> 8-bit (high byte, v >> 8)"
HASH_CHUNK = 1 << 20
#: decoded images a source keeps between reads: a sweep reads every image once per setting
#: (57 settings of 19 photographs: 1,083 decodes, 5 s of CPU), so each worker keeps what it
#: decoded, as much as fits (:class:`DecodedCache`); within the 300 MiB a worker is allowed
#: beyond the 80 MiB it measures (compbench/run/memory.py)
DECODED_CACHE_BYTES = 64 << 20


class Refused(Exception):
    """A file the benchmark will not use; the message is the reason, one line."""


@dataclass(frozen=True)
class Plan:
    """How one file becomes a benchmark image: its target mode, the shape it will have, and
    what was done to get there ("" when it is plain 8-bit gray or RGB)."""

    target: str
    shape: tuple[int, ...]
    note: str
    #: False when the conversion discards data (alpha, low bits, colour space, frames)
    lossless: bool


def plan(image: Image.Image, strict: bool = False) -> Plan:
    """The conversion rule, from the header alone. Raises Refused."""
    target, notes, lossless = _convert_mode(image)
    if getattr(image, "is_animated", False):
        notes.append("first frame used (the file has several)")
        lossless = False
    if strict and not lossless:
        raise Refused(f"needs a conversion that discards data ({'; '.join(notes)}); strict=true refuses it")
    orientation = _orientation(image)
    if orientation not in (None, 1):
        notes.append(f"EXIF orientation {orientation} not applied (pixels coded as stored)")
    width, height = image.size
    shape = (height, width) if target == GRAY else (height, width, 3)
    return Plan(target, shape, "; ".join(notes), lossless)


def _convert_mode(image: Image.Image) -> tuple[str, list[str], bool]:
    """(target mode, notes, lossless) for the image's Pillow mode."""
    mode, rawmode = image.mode, _rawmode(image)
    # Pillow reads 16-bit colour and gray+alpha (PNG, TIFF) as 8-bit RGB(A), keeping the high
    # byte; 16-bit gray arrives as mode I;16 and is scaled the same way below
    deep = [DEEP_NOTE] if SIXTEEN_BIT_RAWMODE.search(rawmode) else []
    if mode in ("I;16", "I;16L", "I;16B", "I;16N") or mode == "I" and re.fullmatch(r"I;16[BLN]?", rawmode):
        return GRAY, [DEEP_NOTE], False
    if mode in ("I", "F"):
        kind = "integer" if mode == "I" else "floating-point"
        raise Refused(f"32-bit {kind} pixels (Pillow mode {mode}) have no defined 8-bit scale")
    if mode == "LAB":
        raise Refused("CIELAB pixels (Pillow mode LAB) need a colour profile to become RGB")
    alpha = ["alpha dropped"] if mode in ("LA", "PA", "RGBA") or "transparency" in image.info else []
    if mode in ("L", "RGB", "LA", "RGBA"):
        target = GRAY if mode[0] == "L" or rawmode.startswith("LA;") else RGB
        return target, deep + alpha, not (deep or alpha)
    if mode == "1":
        return GRAY, ["1-bit -> 8-bit gray (0, 255)"], True
    if mode in ("P", "PA"):
        target = GRAY if _gray_palette(image) else RGB
        note = f"palette -> {'8-bit gray (gray palette)' if target == GRAY else 'RGB'}"
        return target, [note, *alpha], not alpha
    if mode == "RGBa":
        return RGB, ["premultiplied alpha: colour un-premultiplied, alpha dropped"], False
    if mode == "RGBX":
        return RGB, ["RGBX -> RGB (padding byte dropped)"], True
    if mode in ("CMYK", "YCbCr", "HSV"):
        return RGB, [f"{mode} -> RGB (Pillow's conversion, no colour profile)"], False
    raise Refused(f"Pillow mode {mode} is not supported")


def convert(image: Image.Image, target: str) -> np.ndarray:
    """Decode ``image`` and apply the rule's conversion: uint8 (H, W) or (H, W, 3)."""
    mode = image.mode
    if mode == target:
        return np.asarray(image, dtype=np.uint8)
    if mode.startswith("I"):  # 16-bit gray (the rule refused everything else in I modes)
        return (np.asarray(image).astype(np.uint16) >> 8).astype(np.uint8)
    if mode == "RGBA" and target == GRAY:  # 16-bit gray+alpha, read by Pillow as RGBA with R = G = B
        return np.ascontiguousarray(np.asarray(image)[..., 0])
    if mode in ("P", "PA"):
        with warnings.catch_warnings():  # "palette with transparency": the rule drops it, noted
            warnings.simplefilter("ignore")
            rgb = np.asarray(image.convert("RGBA"))[..., :3]
        # a gray palette has R == G == B in every entry: any channel is the gray value
        return np.ascontiguousarray(rgb[..., 0] if target == GRAY else rgb)
    if mode == "RGBa":
        image = image.convert("RGBA")
    return np.asarray(image.convert(target), dtype=np.uint8)


def _gray_palette(image: Image.Image) -> bool:
    palette = image.getpalette() or []
    entries = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
    return bool(len(entries)) and bool((entries == entries[:, :1]).all())


def _rawmode(image: Image.Image) -> str:
    if not image.tile:
        return ""
    args = image.tile[0].args
    rawmode = args[0] if isinstance(args, tuple) and args else args
    return rawmode if isinstance(rawmode, str) else ""


def _orientation(image: Image.Image) -> int | None:
    """The EXIF orientation if the header carries it (never decodes: PNG's getexif would)."""
    if hasattr(image, "tag_v2"):  # TIFF
        return image.tag_v2.get(ORIENTATION_TAG)
    raw = image.info.get("exif")
    if not raw:
        return None
    exif = Image.Exif()
    try:
        exif.load(raw)
    except Exception:  # unreadable EXIF is no reason to refuse the pixels
        return None
    return exif.get(ORIENTATION_TAG)


def reason(exc: BaseException) -> str:
    """One line saying why a file could not be used."""
    if isinstance(exc, UnidentifiedImageError):
        return "not an image file Pillow can read"
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def probe(file: str | Path | io.BytesIO, strict: bool = False) -> Plan:
    """The file's plan from its header (no pixel decoding). Raises on anything unusable."""
    with Image.open(file) as image:
        return plan(image, strict)


def decode(file: str | Path | io.BytesIO, strict: bool = False) -> tuple[np.ndarray, Plan]:
    """The file's pixels as the benchmark sees them, and the plan that produced them."""
    with Image.open(file) as image:
        how = plan(image, strict)
        return convert(image, how.target), how


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class FileImageSource(ImageSource):
    """Images read from files by position: headers probed at construction, pixels on ``read``.

    ``candidates`` are (name, path, class name) in the order wanted; the usable ones become the
    source, the others land in ``skipped`` after the ``skipped`` given (e.g. unlistable folders). ``check="decode"`` also decodes (and hashes) every
    file once up front, so a file corrupt past its header is skipped here rather than failing
    in ``read``; ``check="header"`` reads headers only.
    """

    def __init__(self, candidates: Sequence[tuple[str, Path, str]], class_order: Sequence[str],
                 strict: bool = False, check: str = "decode",
                 skipped: Sequence[tuple[str, str]] = ()) -> None:
        usable: list[tuple[str, Path, str, Plan]] = []
        refused = list(skipped)
        digests: dict[str, str] = {}
        for name, path, class_name in candidates:
            try:
                if not Path(path).is_file():  # a FIFO would block Pillow; a dangling link has nothing
                    raise Refused("not a regular file")
                how = probe(path, strict)  # the header first: a file is read whole only if it is an image
                if check == "decode":
                    data = Path(path).read_bytes()
                    _, how = decode(io.BytesIO(data), strict)
                    digests[name] = hashlib.sha256(data).hexdigest()
            except Exception as exc:  # a bad file is skipped with its reason, never fatal
                refused.append((name, reason(exc)))
                continue
            usable.append((name, Path(path), class_name, how))
        present = {class_name for _, _, class_name, _ in usable}
        self.class_names = tuple(c for c in class_order if c in present)
        label_of = {c: i for i, c in enumerate(self.class_names)}
        self.names = tuple(name for name, *_ in usable)
        self.paths = tuple(path for _, path, _, _ in usable)
        self.labels = np.array([label_of[c] for _, _, c, _ in usable], dtype=np.int64)
        self.indices = np.arange(len(usable))
        self.skipped = tuple(refused)
        #: (name, what was done) for every file converted on the way to 8-bit gray/RGB
        self.conversions = tuple((name, how.note) for name, _, _, how in usable if how.note)
        self.strict = strict
        self._plans = tuple(how for *_, how in usable)
        self._digests = digests
        self._decoded = DecodedCache(DECODED_CACHE_BYTES)

    def __getstate__(self) -> dict:  # a copy sent to a worker starts with an empty cache
        return {**self.__dict__, "_decoded": DecodedCache(self._decoded.budget)}

    def shape(self, position: int) -> tuple[int, ...]:
        return self._plans[position].shape

    def read(self, positions: Sequence[int]) -> list[np.ndarray]:
        return [self._decoded.get(int(p), self._read_one) for p in positions]

    def _read_one(self, position: int) -> np.ndarray:
        name, path = self.names[position], self.paths[position]
        try:
            data = path.read_bytes()
            pixels, _ = decode(io.BytesIO(data), self.strict)
        except Exception as exc:
            raise CompbenchError(f"image {name} ({path}) cannot be decoded: {reason(exc)}; fix or remove "
                                 "the file (check=decode skips such files when the dataset opens)") from None
        # the bytes decoded must be the bytes checksummed: the manifest vouches for them
        digest = hashlib.sha256(data).hexdigest()
        if self._digests.setdefault(name, digest) != digest:
            changed = "its sha256 differs"
        elif pixels.shape != self._plans[position].shape:
            changed = f"shape {pixels.shape}, was {self._plans[position].shape}"
        else:
            return pixels
        raise CompbenchError(f"image {name} ({path}) changed since the dataset was opened ({changed}); "
                             "run again")

    def checksums(self) -> dict[str, str]:
        """Name -> sha256 of the file's bytes, for every file used (hashed once, on demand)."""
        for name, path in zip(self.names, self.paths):
            if name not in self._digests:
                self._digests[name] = sha256_file(path)
        return {name: self._digests[name] for name in self.names}


class DecodedCache:
    """Images by position, at most ``budget`` bytes of them: each image read is kept if it fits
    beside those kept already, and none is dropped. A run reads its images round and round, in
    the same order for every setting, so a cache that dropped the least recently read would
    drop each image just before it is wanted again and miss every read once the images
    outgrow it (five 6-Mpx photographs: 165 decodes, 18 s of CPU, all misses); kept as they
    come, the images that fit are hits for every later setting. Kept images are read-only: a
    caller that changed one would change every later read."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._images: dict[int, np.ndarray] = {}
        self._bytes = 0

    def get(self, position: int, read: Callable[[int], np.ndarray]) -> np.ndarray:
        if position in self._images:
            return self._images[position]
        image = read(position)
        if self._bytes + image.nbytes <= self.budget:
            image.flags.writeable = False
            self._images[position] = image
            self._bytes += image.nbytes
        return image

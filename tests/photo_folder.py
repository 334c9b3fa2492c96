"""A folder of real photographs for dataset tests and end-to-end runs through every codec.

``build_photo_folder(root)`` writes scikit-image's bundled photographs, resized to a few small
sizes, in the ImageFolder layout (one subfolder per class, plus files directly in ``root``), as
PNG, JPEG, BMP, TIFF, WebP and GIF, 8-bit gray and RGB; optionally files the conversion rule
converts (RGBA, LA, 16-bit, palette, 1-bit, CMYK, animated, EXIF-rotated) and files that must be skipped
(truncated, text, float TIFF, hidden). It returns what the folder dataset must make of each file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import imagecodecs
import numpy as np
import skimage.data
from PIL import Image

SIZES = ((64, 48), (100, 75), (33, 21))  # (width, height), as Pillow gives sizes


@dataclass
class PhotoFolder:
    root: Path
    #: relative path -> the pixels the dataset must read from it (uint8 (H, W) or (H, W, 3))
    expected: dict[str, np.ndarray] = field(default_factory=dict)
    #: relative path -> class name
    classes: dict[str, str] = field(default_factory=dict)
    #: relative path -> a fragment of the note the conversion rule must record
    conversions: dict[str, str] = field(default_factory=dict)
    #: relative path -> a fragment of the reason it must be skipped with
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def class_name_of_root(self) -> str:
        return self.root.resolve().name


def resized(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize(size, Image.Resampling.LANCZOS))


def pillow_decode(path: Path, mode: str) -> np.ndarray:
    """Pillow's own decoding of a file, as the reference for lossy formats."""
    with Image.open(path) as image:
        return np.asarray(image.convert(mode))


def build_photo_folder(root: Path, convertible: bool = True, broken: bool = True) -> PhotoFolder:
    """Write the photo folder into ``root`` (created if needed) and say what it must yield.

    Without ``convertible`` and ``broken``: 14 images, 13 in 4 class subfolders and 1 in ``root``, all
    8-bit gray or RGB (the GIF through its gray palette).
    """
    root.mkdir(parents=True, exist_ok=True)
    folder = PhotoFolder(root)
    small, medium, tiny = SIZES
    chelsea, astronaut, coffee, rocket = (skimage.data.chelsea(), skimage.data.astronaut(),
                                          skimage.data.coffee(), skimage.data.rocket())
    camera, coins, brick, grass, moon = (skimage.data.camera(), skimage.data.coins(), skimage.data.brick(),
                                         skimage.data.grass(), skimage.data.moon())

    def add(relative: str, image: np.ndarray | Image.Image | bytes, expected: np.ndarray | str | None = None,
            note: str = "", **save) -> Path:
        """Write ``image`` (an array or Pillow image saved by Pillow with ``save`` options, or a
        file's bytes) and record what the dataset must read back: ``expected``, by default the
        array itself; "L" or "RGB" for Pillow's own decoding in that mode (lossy formats)."""
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(image, bytes):
            path.write_bytes(image)
        else:
            (Image.fromarray(image) if isinstance(image, np.ndarray) else image).save(path, **save)
        if expected is None:
            expected = image
        folder.expected[relative] = pillow_decode(path, expected) if isinstance(expected, str) else expected
        folder.classes[relative] = relative.split("/")[0] if "/" in relative else folder.class_name_of_root
        if note:
            folder.conversions[relative] = note
        return path

    # plain 8-bit gray and RGB, every format, three sizes, one nested folder
    add("animal/chelsea_64x48.jpg", resized(chelsea, small), "RGB", quality=90)
    add("animal/chelsea_100x75.webp", resized(chelsea, medium), "RGB", quality=80)
    add("animal/more/chelsea_33x21.png", resized(chelsea, tiny))
    add("object/coffee_64x48.png", resized(coffee, small))
    add("object/coins_100x75.tif", resized(coins, medium), compression="tiff_lzw")
    add("object/rocket_33x21.webp", resized(rocket, tiny), lossless=True)
    add("object/rocket_100x75.bmp", resized(rocket, medium))
    add("people/astronaut_100x75.tif", resized(astronaut, medium))
    add("people/camera_64x48.bmp", resized(camera, small))
    add("people/camera_33x21.png", resized(camera, tiny))
    add("texture/brick_64x48.jpg", resized(brick, small), "L", quality=75)
    add("texture/grass_100x75.png", resized(grass, medium))
    add("texture/grass_33x21.gif", resized(grass, tiny), note="palette -> 8-bit gray")  # GIF: always a palette
    add("moon_64x48.png", resized(moon, small))  # directly in root: the root's own class

    if convertible:
        rgb, gray = resized(astronaut, small), resized(camera, tiny)
        ramp = np.linspace(0, 255, rgb.size // 3).reshape(rgb.shape[:2]).astype(np.uint8)
        add("people/astronaut_rgba.png", np.dstack([rgb, ramp]), rgb, "alpha dropped")
        add("people/camera_la.png", np.dstack([gray, 255 - gray]), gray, "alpha dropped")
        # 16 bits: the photo in the high byte, a pattern in the low byte the rule must drop
        low = np.arange(gray.size, dtype=np.uint16).reshape(gray.shape) % 256
        add("people/camera_la16.png", imagecodecs.png_encode(np.dstack([gray * np.uint16(256) + low, low])),
            gray, "16-bit -> 8-bit (high byte, v >> 8); alpha dropped")
        high = resized(coins, small)
        low = np.arange(high.size, dtype=np.uint16).reshape(high.shape) % 256
        add("object/coins_16bit.png", high * np.uint16(256) + low, high, "16-bit -> 8-bit")
        high = resized(coffee, tiny)
        add("object/coffee_16bit_rgb.png", imagecodecs.png_encode(high * np.uint16(256) + 99), high,
            "16-bit -> 8-bit")

        palette = Image.fromarray(resized(coffee, medium)).quantize(64)
        add("object/coffee_palette.gif", palette, np.asarray(palette.convert("RGB")), "palette -> RGB")
        gray = resized(brick, medium)
        gray_palette = Image.new("P", gray.shape[::-1])
        gray_palette.putpalette([v for i in range(256) for v in (i, i, i)])
        gray_palette.putdata(gray.ravel().tolist())
        add("texture/brick_gray_palette.png", gray_palette, gray, "palette -> 8-bit gray")

        bilevel = resized(brick, small) > 128
        add("texture/brick_1bit.png", bilevel, bilevel.astype(np.uint8) * 255, "1-bit -> 8-bit gray")
        add("animal/chelsea_cmyk.jpg", Image.fromarray(resized(chelsea, small)).convert("CMYK"), "RGB",
            "CMYK -> RGB", quality=90)
        frames = [Image.fromarray(resized(chelsea, tiny)), Image.fromarray(resized(rocket, tiny))]
        add("animal/chelsea_animated.gif", frames[0], "RGB", "first frame used", save_all=True,
            append_images=frames[1:])
        exif = Image.Exif()
        exif[274] = 6  # "rotate 90 degrees clockwise to display"
        add("people/astronaut_rotated.jpg", resized(astronaut, tiny), "RGB", "EXIF orientation 6 not applied",
            exif=exif.tobytes())

    if broken:
        whole = root / "object/rocket_whole.png"
        Image.fromarray(resized(rocket, medium)).save(whole)
        data = whole.read_bytes()
        whole.unlink()
        (root / "object/rocket_truncated.png").write_bytes(data[: len(data) // 2])
        folder.skipped["object/rocket_truncated.png"] = "truncated"
        Image.fromarray(resized(moon, tiny).astype(np.float32)).save(root / "texture/moon_float.tif")
        folder.skipped["texture/moon_float.tif"] = "no defined 8-bit scale"
        (root / "README.txt").write_text("photographs from scikit-image\n")
        folder.skipped["README.txt"] = "not an image"
        (root / "people/.DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + bytes(64))
        folder.skipped["people/.DS_Store"] = "not an image"
        (root / "notes").mkdir(exist_ok=True)  # a subfolder without images is no class
        (root / "notes/todo.txt").write_text("more photos\n")
        folder.skipped["notes/todo.txt"] = "not an image"
        hidden = root / ".thumbnails"  # hidden folders are not searched at all
        hidden.mkdir(exist_ok=True)
        Image.fromarray(resized(moon, tiny)).save(hidden / "moon.png")
    return folder

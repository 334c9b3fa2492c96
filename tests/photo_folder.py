"""A folder of real photographs for dataset tests and end-to-end runs through every codec.

``build_photo_folder(root)`` writes scikit-image's bundled photographs, resized to a few small
sizes, in the ImageFolder layout (one subfolder per class, plus files directly in ``root``), as
PNG, JPEG, BMP, TIFF, WebP and GIF, 8-bit gray and RGB; optionally files the conversion rule
converts (RGBA, LA, 16-bit, palette, 1-bit, CMYK, EXIF-rotated) and files that must be skipped
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

    def add(relative: str, pixels: np.ndarray, lossy: bool = False, note: str = "", **save) -> Path:
        """Save ``pixels`` (as Pillow writes them) and record what the dataset must read back."""
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(path, **save)
        mode = "L" if pixels.ndim == 2 else "RGB"
        folder.expected[relative] = pillow_decode(path, mode) if lossy else pixels
        folder.classes[relative] = relative.split("/")[0] if "/" in relative else folder.class_name_of_root
        if note:
            folder.conversions[relative] = note
        return path

    # plain 8-bit gray and RGB, every format, three sizes, one nested folder
    add("animal/chelsea_64x48.jpg", resized(chelsea, small), lossy=True, quality=90)
    add("animal/chelsea_100x75.webp", resized(chelsea, medium), lossy=True, quality=80)
    add("animal/more/chelsea_33x21.png", resized(chelsea, tiny))
    add("object/coffee_64x48.png", resized(coffee, small))
    add("object/coins_100x75.tif", resized(coins, medium), compression="tiff_lzw")
    add("object/rocket_33x21.webp", resized(rocket, tiny), lossless=True)
    add("object/rocket_100x75.bmp", resized(rocket, medium))
    add("people/astronaut_100x75.tif", resized(astronaut, medium))
    add("people/camera_64x48.bmp", resized(camera, small))
    add("people/camera_33x21.png", resized(camera, tiny))
    add("texture/brick_64x48.jpg", resized(brick, small), lossy=True, quality=75)
    add("texture/grass_100x75.png", resized(grass, medium))
    add("texture/grass_33x21.gif", resized(grass, tiny), note="palette -> 8-bit gray")  # GIF: always a palette
    add("moon_64x48.png", resized(moon, small))  # directly in root: the root's own class

    if convertible:
        rgb = resized(astronaut, small)
        rgba = np.dstack([rgb, np.linspace(0, 255, rgb.size // 3).reshape(rgb.shape[:2]).astype(np.uint8)])
        add("people/astronaut_rgba.png", rgba, note="alpha dropped")
        folder.expected["people/astronaut_rgba.png"] = rgb
        gray = resized(camera, tiny)
        add("people/camera_la.png", np.dstack([gray, 255 - gray]), note="alpha dropped")
        folder.expected["people/camera_la.png"] = gray

        # high byte the photo, low byte a pattern the rule must drop
        high = resized(coins, small)
        add("object/coins_16bit.png", high.astype(np.uint16) * 256 + np.arange(high.size, dtype=np.uint16)
            .reshape(high.shape) % 256, note="16-bit gray -> 8-bit")
        folder.expected["object/coins_16bit.png"] = high
        high_rgb = resized(coffee, tiny)
        (root / "object/coffee_16bit_rgb.png").write_bytes(imagecodecs.png_encode(high_rgb.astype(np.uint16) * 256 + 99))
        folder.expected["object/coffee_16bit_rgb.png"] = high_rgb
        folder.classes["object/coffee_16bit_rgb.png"] = "object"
        folder.conversions["object/coffee_16bit_rgb.png"] = "16-bit RGB -> 8-bit"

        palette = Image.fromarray(resized(coffee, medium)).quantize(64)
        palette.save(root / "object/coffee_palette.gif")
        folder.expected["object/coffee_palette.gif"] = np.asarray(palette.convert("RGB"))
        folder.classes["object/coffee_palette.gif"] = "object"
        folder.conversions["object/coffee_palette.gif"] = "palette -> RGB"
        gray = resized(brick, medium)
        gray_palette = Image.new("P", gray.shape[::-1])
        gray_palette.putpalette([v for i in range(256) for v in (i, i, i)])
        gray_palette.putdata(gray.ravel().tolist())
        gray_palette.save(root / "texture/brick_gray_palette.png")
        folder.expected["texture/brick_gray_palette.png"] = gray
        folder.classes["texture/brick_gray_palette.png"] = "texture"
        folder.conversions["texture/brick_gray_palette.png"] = "palette -> 8-bit gray"

        bilevel = resized(brick, small) > 128
        add("texture/brick_1bit.png", bilevel, note="1-bit -> 8-bit gray")
        folder.expected["texture/brick_1bit.png"] = bilevel.astype(np.uint8) * 255

        cmyk = root / "animal/chelsea_cmyk.jpg"
        Image.fromarray(resized(chelsea, small)).convert("CMYK").save(cmyk, quality=90)
        folder.expected["animal/chelsea_cmyk.jpg"] = pillow_decode(cmyk, "RGB")
        folder.classes["animal/chelsea_cmyk.jpg"] = "animal"
        folder.conversions["animal/chelsea_cmyk.jpg"] = "CMYK -> RGB"

        exif = Image.Exif()
        exif[274] = 6  # "rotate 90 degrees clockwise to display"
        add("people/astronaut_rotated.jpg", resized(astronaut, tiny), lossy=True, exif=exif.tobytes(),
            note="EXIF orientation 6 not applied")

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

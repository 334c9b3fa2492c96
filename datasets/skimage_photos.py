"""Natural images with nothing to download: the photographs bundled inside scikit-image.

Only images whose files ship in scikit-image's wheel are used (``skimage.data`` fetches the
others from the network); synthetic ones (logo, colour wheel, phantom, binary horse) are left
out. Each image keeps its original size; its name is the ``skimage.data`` function that returns
the same pixels.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from compbench import AVAILABLE, Availability, CompbenchError, DatasetAdapter, hookimpl

from .image_files import FileImageSource

#: (skimage.data function, file in scikit-image's data folder, kind); 8 colour and 11 gray
PHOTOS = (
    ("chelsea", "chelsea.png", "animal"),  # a cat, RGB
    ("cell", "cell.png", "biomedical"),  # quantitative phase microscopy, gray
    ("immunohistochemistry", "ihc.png", "biomedical"),  # stained tissue, RGB
    ("microaneurysms", "microaneurysms.png", "biomedical"),  # retina detail, gray
    ("retina", "retina.jpg", "biomedical"),  # fundus photograph, RGB
    ("page", "page.png", "document"),  # a printed page, gray
    ("text", "text.png", "document"),  # text photographed, gray
    ("clock", "clock_motion.png", "object"),  # with motion blur, gray
    ("coffee", "coffee.png", "object"),  # RGB
    ("coins", "coins.png", "object"),  # gray
    ("rocket", "rocket.jpg", "object"),  # on its launch pad, RGB
    ("stereo_motorcycle", "motorcycle_left.png", "object"),  # left view of the pair, RGB
    ("astronaut", "astronaut.png", "people"),  # RGB
    ("camera", "camera.png", "people"),  # the cameraman, gray
    ("hubble_deep_field", "hubble_deep_field.jpg", "space"),  # RGB
    ("moon", "moon.png", "space"),  # gray
    ("brick", "brick.png", "texture"),  # gray
    ("grass", "grass.png", "texture"),  # gray
    ("gravel", "gravel.png", "texture"),  # gray
)
KINDS = tuple(sorted({kind for _, _, kind in PHOTOS}))
FIX = "reinstall scikit-image: pip install --force-reinstall -c constraints.txt scikit-image"


def data_dir() -> Path | None:
    """scikit-image's bundled data folder, found without importing scikit-image."""
    spec = find_spec("skimage")
    return Path(spec.origin).parent / "data" if spec and spec.origin else None


class SkimagePhotos(DatasetAdapter):
    name = "skimage"
    description = (f"{len(PHOTOS)} photographs bundled with scikit-image (8 colour, 11 gray, original "
                   "sizes 102x102 to 1411x1411), nothing to download")
    class_names = KINDS
    splits = ("all",)
    default_split = "all"

    def available(self) -> Availability:
        folder = data_dir()
        if folder is None:
            return Availability(False, "scikit-image is not installed", FIX)
        missing = [file for _, file, _ in PHOTOS if not (folder / file).is_file()]
        if missing:
            return Availability(False, f"{folder} lacks {', '.join(missing)}", FIX)
        return AVAILABLE

    def open(self, split: str) -> FileImageSource:
        self.check_split(split)
        status = self.available()
        if not status.ok:
            raise CompbenchError(f"dataset skimage is not available: {status.reason}; fix: {status.fix}")
        folder = data_dir()
        # headers only: the files come from the installed wheel, and checksums() records them
        candidates = sorted(((name, folder / file, kind) for name, file, kind in PHOTOS),
                            key=lambda c: (c[2], c[0]))
        return FileImageSource(candidates, KINDS, check="header")

    def checksums(self, split: str) -> dict[str, str]:
        return self.open(split).checksums()


@hookimpl
def register_datasets(register):
    register(SkimagePhotos())

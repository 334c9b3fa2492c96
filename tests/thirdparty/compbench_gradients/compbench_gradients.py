"""A dataset plugin with parameters: ``--dataset gradients:count=40:size=32:colour=true``.

Images are drawn on demand by position (random access), so a worker reads only its own.
"""

import numpy as np

from compbench import DatasetAdapter, ImageSource, Param, hookimpl


class Gradients(ImageSource):
    def __init__(self, count: int, size: int, colour: bool) -> None:
        self.size, self.colour = size, colour
        self.labels = np.arange(count) % 2  # 0: horizontal, 1: vertical
        self.indices = np.arange(count)
        self.class_names = ("horizontal", "vertical")

    def shape(self, position):
        return (self.size, self.size, 3) if self.colour else (self.size, self.size)

    def read(self, positions):
        return [self._draw(int(p)) for p in positions]

    def _draw(self, position: int) -> np.ndarray:
        ramp = np.linspace(0, 255, self.size)[None, :].repeat(self.size, axis=0)
        image = ramp if self.labels[position] == 0 else ramp.T
        image = (image + 7 * position) % 256
        if self.colour:
            image = np.stack([image, 255 - image, np.full_like(image, position % 256)], axis=-1)
        return image.astype(np.uint8)


class GradientsDataset(DatasetAdapter):
    name = "gradients"
    description = "synthetic horizontal and vertical gradients"
    splits = ("test",)
    class_names = ("horizontal", "vertical")
    params = (
        Param("count", int, 20, "images in the split", low=1, high=100_000),
        Param("size", int, 32, "side in pixels", low=4, high=4096),
        Param("colour", bool, False, "RGB instead of gray"),
    )

    def open(self, split, count, size, colour):
        return Gradients(count, size, colour)


@hookimpl
def register_datasets(register):
    register(GradientsDataset())

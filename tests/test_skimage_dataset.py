import numpy as np
import pytest
import skimage.data
from compbench_datasets.skimage_photos import PHOTOS
from skimage.data._registry import registry as skimage_registry

from compbench import load_dataset


@pytest.fixture(scope="module")
def photos():
    return load_dataset("skimage")


def test_registered_with_kinds_as_classes(registry):
    adapter = registry.dataset("skimage")
    assert adapter.class_names == ("animal", "biomedical", "document", "object", "people", "space", "texture")
    assert adapter.splits == ("all",) and adapter.available().ok


def test_every_photo_is_skimages_own_pixels(photos):
    assert sorted(photos.names) == sorted(name for name, _, _ in PHOTOS)
    assert photos.skipped == () and photos.conversions == ()
    for position, (name, image) in enumerate(zip(photos.names, photos.read(range(len(photos))))):
        reference = getattr(skimage.data, name)()
        reference = reference[0] if isinstance(reference, tuple) else reference  # the stereo pair's left view
        assert image.dtype == np.uint8 and photos.shape(position) == image.shape
        assert np.array_equal(image, reference), name


def test_gray_and_colour_at_original_sizes(photos):
    shapes = [photos.shape(p) for p in range(len(photos))]
    assert sum(len(s) == 3 for s in shapes) == 8 and sum(len(s) == 2 for s in shapes) == 11
    assert len({s[:2] for s in shapes}) > 5
    assert photos.shape(photos.names.index("retina")) == (1411, 1411, 3)


def test_classes_group_the_kinds(photos):
    kind = {name: photos.class_names[label] for name, label in zip(photos.names, photos.labels)}
    assert kind["chelsea"] == "animal" and kind["camera"] == "people" and kind["brick"] == "texture"
    assert np.all(np.diff(photos.labels) >= 0)


def test_checksums_match_scikit_images_registry(photos, registry):
    files = {name: file for name, file, _ in PHOTOS}
    assert photos.checksums() == {name: skimage_registry[f"data/{files[name]}"] for name in photos.names}
    assert registry.dataset("skimage").checksums("all") == photos.checksums()

import hashlib
import os
import pickle
import shutil

import numpy as np
import pytest
from compbench_datasets.folder import FolderDataset
from photo_folder import build_photo_folder
from PIL import Image

from compbench import CompbenchError, load_dataset


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    return build_photo_folder(tmp_path_factory.mktemp("data") / "photos")


@pytest.fixture(scope="module")
def source(photos):
    return load_dataset("folder", path=str(photos.root))


def test_every_usable_photo_is_listed_by_class_then_path(photos, source):
    order = sorted(photos.expected, key=lambda name: (photos.classes[name], name))
    assert source.names == tuple(order)
    assert source.class_names == ("animal", "object", "people", "photos", "texture")  # "notes" has no image
    assert [source.class_names[label] for label in source.labels] == [photos.classes[n] for n in order]
    assert source.indices.tolist() == list(range(len(order)))


def test_shapes_come_from_headers_and_match_the_pixels(photos, source):
    images = source.read(range(len(source)))
    for position, (name, image) in enumerate(zip(source.names, images)):
        assert source.shape(position) == image.shape == photos.expected[name].shape, name
        assert image.dtype == np.uint8
    assert {image.ndim for image in images} == {2, 3}
    assert len({image.shape[:2] for image in images}) == 3


def test_pixels_are_the_photos_or_pillows_own_decoding(photos, source):
    for name, image in zip(source.names, source.read(range(len(source)))):
        assert np.array_equal(image, photos.expected[name]), name


def test_read_is_random_access_in_the_order_asked(photos, source):
    picked = source.read([5, 0, 5])
    assert np.array_equal(picked[0], photos.expected[source.names[5]])
    assert np.array_equal(picked[1], photos.expected[source.names[0]])


def test_unusable_files_are_skipped_with_name_and_reason(photos, source):
    skipped = dict(source.skipped)
    assert set(skipped) == set(photos.skipped)  # the hidden folder's image is not searched
    for name, fragment in photos.skipped.items():
        assert fragment in skipped[name], (name, skipped[name])
    assert all("\n" not in reason for reason in skipped.values())


def test_every_conversion_is_noted(photos, source):
    notes = dict(source.conversions)
    assert set(notes) == set(photos.conversions)
    for name, fragment in photos.conversions.items():
        assert fragment in notes[name], (name, notes[name])


def test_checksums_are_sha256_of_every_file_used(photos, source):
    checksums = source.checksums()
    assert list(checksums) == list(source.names)
    for name, digest in checksums.items():
        assert digest == hashlib.sha256((photos.root / name).read_bytes()).hexdigest()
    # headers-only opening hashes on demand, to the same values (and keeps the truncated file)
    lazy = load_dataset("folder", path=str(photos.root), check="header").checksums()
    assert lazy.pop("object/rocket_truncated.png") and lazy == checksums


def test_a_changed_file_changes_its_checksum(tmp_path):
    photos = build_photo_folder(tmp_path / "photos", convertible=False, broken=False)
    before = load_dataset("folder", path=str(photos.root)).checksums()
    image = photos.root / "people/camera_33x21.png"
    pixels = np.asarray(Image.open(image)).copy()
    pixels[0, 0] ^= 1
    Image.fromarray(pixels).save(image)
    after = load_dataset("folder", path=str(photos.root)).checksums()
    assert [name for name in before if before[name] != after[name]] == ["people/camera_33x21.png"]


def test_strict_refuses_conversions_that_discard_data(photos):
    strict = load_dataset("folder", path=str(photos.root), strict="true")
    refused = {name for name, reason in strict.skipped if "strict=true refuses" in reason}
    assert refused == {"people/astronaut_rgba.png", "people/camera_la.png", "people/camera_la16.png",
                       "object/coins_16bit.png",
                       "object/coffee_16bit_rgb.png", "animal/chelsea_cmyk.jpg",
                       "animal/chelsea_animated.gif"}
    kept = dict(strict.conversions)  # exact reinterpretations stay, and so does the orientation note
    assert {"texture/brick_1bit.png", "texture/brick_gray_palette.png", "object/coffee_palette.gif",
            "people/astronaut_rotated.jpg"} <= set(kept)


def test_headers_only_defers_a_corrupt_file_to_read(photos):
    lazy = load_dataset("folder", path=str(photos.root), check="header")
    position = lazy.names.index("object/rocket_truncated.png")
    assert lazy.shape(position) == (75, 100, 3)
    assert "object/rocket_truncated.png" not in dict(lazy.skipped)
    with pytest.raises(CompbenchError, match=r"object/rocket_truncated.png .* cannot be decoded: image "
                                             r"file is truncated; fix or remove the file"):
        lazy.read([position])


@pytest.mark.parametrize("check, change, message", [
    ("decode", "one pixel", "its sha256 differs"),
    ("header", "the size", r"shape \(10, 10\), was \(75, 100\)"),
])
def test_a_file_changed_after_opening_is_refused_on_read(tmp_path, check, change, message):
    photos = build_photo_folder(tmp_path / "photos", convertible=False, broken=False)
    source = FolderDataset().open("all", path=str(photos.root), check=check)
    image = photos.root / "texture/grass_100x75.png"
    pixels = np.asarray(Image.open(image)).copy()
    pixels[0, 0] ^= 1
    Image.fromarray(pixels if change == "one pixel" else pixels[:10, :10]).save(image)
    with pytest.raises(CompbenchError, match=f"grass_100x75.png .* changed since the dataset was opened "
                                             f"\\({message}\\); run again"):
        source.read([source.names.index("texture/grass_100x75.png")])


def test_the_source_travels_to_worker_processes(photos, source):
    copy = pickle.loads(pickle.dumps(source))
    assert copy.names == source.names
    assert np.array_equal(copy.read([3])[0], source.read([3])[0])


def test_a_source_decodes_each_file_once_and_hands_out_read_only_pixels(photos, monkeypatch):
    """A sweep reads every image once per setting: a source keeps what it decoded (within its
    budget), and what it keeps cannot be changed by a caller."""
    from compbench_datasets import image_files

    source = FolderDataset().open("all", path=str(photos.root), check="header")
    decoded = []
    real_decode = image_files.decode
    monkeypatch.setattr(image_files, "decode", lambda *a, **k: decoded.append(1) or real_decode(*a, **k))
    first = source.read([0, 1, 0])
    again = source.read([1, 0])
    assert len(decoded) == 2
    assert again[0] is first[1] and not again[0].flags.writeable
    copy = pickle.loads(pickle.dumps(source))  # a worker's copy starts empty
    assert np.array_equal(copy.read([0])[0], first[0]) and len(decoded) == 3


def test_the_decoded_cache_keeps_what_fits_and_serves_it_every_round():
    """A run reads its images round and round (every setting, the same order): the images that
    fit the budget are read once, those that do not every round; nothing kept is dropped (a
    least-recently-read cache would miss every read once the images outgrow it)."""
    from compbench_datasets.image_files import DecodedCache

    reads = []

    def read(position):
        reads.append(position)
        return np.zeros(40 if position == 9 else 10, dtype=np.uint8)

    cache = DecodedCache(budget=30)
    for _ in range(3):  # five images of 10 bytes, three settings
        for position in range(5):
            cache.get(position, read)
    assert reads == [0, 1, 2, 3, 4] + [3, 4] * 2  # 0, 1 and 2 fill the budget; 9 of 15 reads hit
    assert not cache.get(0, read).flags.writeable and cache.get(3, read).flags.writeable
    reads.clear()
    cache.get(9, read)  # larger than the budget: read, never kept
    cache.get(9, read)
    assert reads == [9, 9]


def test_root_files_take_class_dot_when_a_subfolder_has_the_root_name(tmp_path):
    root = tmp_path / "cats"
    (root / "cats").mkdir(parents=True)
    pixels = np.full((8, 8), 7, np.uint8)
    Image.fromarray(pixels).save(root / "loose.png")
    Image.fromarray(pixels).save(root / "cats" / "inside.png")
    source = load_dataset("folder", path=str(root))
    assert source.class_names == (".", "cats")
    assert source.names == ("loose.png", "cats/inside.png")


def test_a_path_is_required():
    with pytest.raises(CompbenchError, match=r"^dataset folder needs a path; use --dataset folder:path=DIR"):
        load_dataset("folder")


def test_a_missing_path_is_named(tmp_path):
    with pytest.raises(CompbenchError, match=rf"^dataset folder: {tmp_path}/nope does not exist; give an"):
        load_dataset("folder", path=str(tmp_path / "nope"))


def test_a_file_is_not_a_folder(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    with pytest.raises(CompbenchError, match=r"a.png is a file, not a folder; give the folder holding"):
        load_dataset("folder", path=str(tmp_path / "a.png"))


def test_an_empty_folder_is_one_line(tmp_path):
    with pytest.raises(CompbenchError, match=r"^folder .* has no readable images \(it holds no files\); "
                                             r"put image files directly in it or in one subfolder per class$"):
        load_dataset("folder", path=str(tmp_path))


def test_a_folder_without_usable_images_gives_the_first_reason(tmp_path, photos):
    (tmp_path / "a.txt").write_text("no image\n")
    (tmp_path / "b").mkdir()
    shutil.copy(photos.root / "object/rocket_truncated.png", tmp_path / "b" / "broken.png")
    with pytest.raises(CompbenchError) as error:
        load_dataset("folder", path=str(tmp_path))
    message = str(error.value)
    assert "\n" not in message
    assert f"folder {tmp_path} has no readable images (2 files skipped, first: " in message
    assert "b/broken.png: image file is truncated); put image files" in message  # class b sorts first


def test_special_files_and_dangling_links_are_skipped_not_opened(tmp_path):
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(tmp_path / "ok.png")
    os.mkfifo(tmp_path / "pipe")  # Pillow would wait forever reading it
    (tmp_path / "gone.png").symlink_to(tmp_path / "missing.png")
    source = load_dataset("folder", path=str(tmp_path))
    assert source.names == ("ok.png",)
    assert dict(source.skipped) == {"gone.png": "not a regular file", "pipe": "not a regular file"}


def test_a_folder_that_cannot_be_listed_is_reported(tmp_path, monkeypatch):
    (tmp_path / "cats" / "locked").mkdir(parents=True)
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(tmp_path / "cats" / "ok.png")
    real_walk = os.walk

    def walk(top, onerror=None, **options):  # as os.walk reports a subfolder it may not enter (tests run as root)
        onerror(PermissionError(13, "Permission denied", os.path.join(top, "locked")))
        yield from real_walk(top, onerror=onerror, **options)

    monkeypatch.setattr("compbench_datasets.folder.os.walk", walk)
    source = load_dataset("folder", path=str(tmp_path))
    assert source.names == ("cats/ok.png",)
    assert source.skipped == (("cats/locked/", "Permission denied"),)

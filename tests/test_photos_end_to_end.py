"""Issue: any image folder through the whole harness. A folder of real photographs (several
sizes, gray and colour, with a corrupt file, a 16-bit file and an RGBA file among them) runs
through every built-in codec: each usable image is recorded for each codec that takes it,
bpp is per pixel, the skipped files and conversions are named on the terminal and in the
manifest with a checksum of every file used, and DDCAE is reported once as not applicable."""

import hashlib
import json

import numpy as np
import pytest
from conftest import builtin_registry, run_cli
from photo_folder import build_photo_folder

from compbench.store.records_reader import read_records


def built_in() -> list[str]:
    """The built-in codecs available here (test_kit fails an unavailable one in CI)."""
    return sorted(name for name, entry in builtin_registry().codecs.items()
                  if entry.provenance.distribution == "compbench" and entry.obj.available().ok)


def any_size() -> list[str]:
    """The codecs built for 28x28 digits (ddcae, convae) are not applicable to photographs."""
    return [name for name in built_in() if builtin_registry().codec(name).sizes is None]


#: every built-in codec over a folder of photographs, through the command: an end-to-end run
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def photo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos")
    folder = build_photo_folder(root / "shots", convertible=True, broken=True)
    out = root / "run"
    done = run_cli("run", "--dataset", f"folder:path={folder.root}", "--codecs", ",".join(built_in()),
                   "--out", out, "--quiet", cwd=root)
    return folder, out, done


def test_every_codec_codes_every_usable_photo(photo_run):
    folder, out, done = photo_run
    assert done.returncode == 0, done.stderr
    records = read_records(out / "records.csv")
    usable = len(folder.expected)
    assert set(records["codec"]) == set(any_size()) and "ddcae" not in any_size()
    assert (records.groupby("codec").size() == usable).all()
    assert (records["error"] == "").all(), records.loc[records["error"] != "", ["setting", "error"]]
    # bpp per pixel (H x W), whatever the channel count: the same bytes over the same pixels
    np.testing.assert_allclose(records["bpp"], 8 * records["bytes"] / records["pixels"])
    lossless = records[records["codec"].isin(["png", "zstd", "none", "qoi", "jpegls", "webp-lossless",
                                             "jpegxl-lossless"])]
    assert (lossless["mse"] == 0).all()


def test_skips_conversions_checksums_and_not_applicable_are_reported(photo_run):
    folder, out, done = photo_run
    manifest = json.loads((out / "manifest.json").read_text())
    for name, fragment in folder.skipped.items():
        assert fragment in manifest["dataset_skipped"][name]
        assert f"note: skipped {name}: " in done.stderr
    for name, fragment in folder.conversions.items():
        assert fragment in manifest["dataset_conversions"][name]
    assert "image(s) converted to 8-bit gray or RGB" in done.stderr
    checksums = manifest["dataset_checksums"]
    assert set(checksums) == set(folder.expected)
    for name, digest in checksums.items():
        assert digest == hashlib.sha256((folder.root / name).read_bytes()).hexdigest()
    refused = manifest["not_applicable"]["ddcae"]
    assert refused["images"] == refused["of"] == len(folder.expected)
    assert done.stderr.count("note: ddcae is not applicable") == 1
    assert "ddcae takes 28x28 images only" in done.stderr and "Traceback" not in done.stderr

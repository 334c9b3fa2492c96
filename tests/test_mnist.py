import gzip
import shutil

import numpy as np
import pytest
from compbench_datasets.mnist import DATA_DIR, MnistIdx
from conftest import skip_unless_ci

from compbench.contracts.dataset import select
from compbench.contracts.errors import CompbenchError


def test_splits_shapes_and_classes(registry):
    mnist = registry.dataset("mnist")
    assert mnist.class_names == tuple("0123456789")
    test = mnist.load("test")
    assert test.images.shape == (10000, 28, 28) and test.images.dtype == np.uint8
    assert np.bincount(test.labels).tolist()[:3] == [980, 1135, 1032]  # published class counts
    assert len(mnist.load("train")) == 60000


def test_first_n_and_n_per_class(mnist_test):
    assert select(mnist_test.labels, limit=7).tolist() == list(range(7))
    per = mnist_test.take(select(mnist_test.labels, per_class=3))
    assert np.bincount(per.labels).tolist() == [3] * 10
    assert all(per.labels[i] == mnist_test.labels[per.indices[i]] for i in range(len(per)))


@pytest.fixture
def copied(tmp_path):
    for path in DATA_DIR.glob("t10k-*.gz"):
        shutil.copy(path, tmp_path / path.name)
    return tmp_path


def test_missing_file_names_the_file_and_fix(copied):
    (copied / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(CompbenchError, match=r"dataset file missing: .*t10k-labels-idx1-ubyte.gz; reinstall"):
        MnistIdx(copied).load("test")


def test_corrupt_file_is_refused(copied):
    path = copied / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(CompbenchError, match="dataset file corrupt: .*t10k-images"):
        MnistIdx(copied).load("test")


def test_checksum_mismatch_is_refused(copied):
    path = copied / "t10k-images-idx3-ubyte.gz"
    raw = bytearray(gzip.decompress(path.read_bytes()))
    raw[5000] ^= 0xFF  # one flipped pixel: still a valid gzip and IDX file
    path.write_bytes(gzip.compress(bytes(raw), compresslevel=1))  # level 9 takes seconds; any gzip will do
    with pytest.raises(CompbenchError, match="checksum mismatch: .*expected 2646ac64"):
        MnistIdx(copied).load("test")


def test_unknown_split(registry):
    with pytest.raises(CompbenchError, match="no split 'val'; valid: train, test"):
        registry.dataset("mnist").load("val")


def test_fashion_mnist_from_debian(registry):
    fashion = registry.dataset("fashion-mnist")
    if not fashion.available().ok:
        skip_unless_ci(f"{fashion.available().reason}; {fashion.available().fix}")
    test = fashion.load("test")
    assert test.images.shape == (10000, 28, 28) and np.bincount(test.labels).tolist() == [1000] * 10
    assert fashion.class_names[9] == "Ankle boot"


def test_missing_dataset_folder_says_how_to_install(tmp_path):
    from compbench_datasets.mnist import IdxDataset

    absent = IdxDataset("x", "", ("a",), tmp_path / "nowhere", None, "apt-get install -y dataset-x")
    status = absent.available()
    assert not status.ok and "nowhere" in status.reason and status.fix == "apt-get install -y dataset-x"
    with pytest.raises(CompbenchError, match="dataset file missing: .*nowhere.*apt-get install -y dataset-x"):
        absent.load("test")

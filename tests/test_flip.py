"""The ``flip`` metric plugin (compbench_metrics.flip) against NVIDIA's flip-evaluator, its
reference: the same mean FLIP error on the same pairs, registered like a third-party plugin,
measured only when a run asks for it, and listed as unavailable, with the fix, without the
package."""

from __future__ import annotations

import importlib.util
from io import BytesIO

import numpy as np
import pytest
from compbench_metrics import flip as plugin
from PIL import Image
from skimage.data import astronaut, camera

from compbench.contracts.registry import build_registry
from compbench.metrics import MetricSet


@pytest.fixture(scope="module")
def flip_evaluator():
    import flip_evaluator  # the test extra's reference: never skipped

    return flip_evaluator


def jpeg(image, quality):
    buffer = BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


def reference(original, reconstruction):
    """flip-evaluator called directly, as its documentation shows, on 0..1 float32 sRGB."""
    import flip_evaluator

    if original.ndim == 2:
        original, reconstruction = (np.dstack([image] * 3) for image in (original, reconstruction))
    return flip_evaluator.evaluate(original.astype(np.float32) / 255, reconstruction.astype(np.float32) / 255,
                                   "LDR")[1]


def test_equals_flip_evaluator_on_a_colour_photograph(flip_evaluator):
    photo = astronaut()[::2, ::2]
    for quality in (10, 60):
        decoded = jpeg(photo, quality)
        assert plugin.mean_flip(photo[None], decoded[None])[0] == reference(photo, decoded)


def test_equals_flip_evaluator_on_gray_images_as_r_equal_g_equal_b(flip_evaluator):
    photo = camera()[::4, ::4]
    decoded = jpeg(photo, 20)
    value = plugin.mean_flip(photo[None], decoded[None])[0]
    assert value == reference(photo, decoded)
    assert plugin.mean_flip(photo[None, ..., None], decoded[None, ..., None])[0] == value


def test_a_batch_of_digits_each_equal_to_flip_evaluator(flip_evaluator):
    rng = np.random.default_rng(0)
    digits = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    noisy = np.clip(digits + rng.integers(-30, 31, digits.shape), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(plugin.mean_flip(digits, noisy), [reference(a, b) for a, b in zip(digits, noisy)])


def test_worse_jpeg_more_error_and_identical_zero(flip_evaluator):
    photo = astronaut()[::4, ::4]
    errors = plugin.mean_flip(np.stack([photo] * 3), np.stack([photo, jpeg(photo, 80), jpeg(photo, 10)]))
    assert errors[0] == 0.0
    assert 0 < errors[1] < errors[2] < 1


def test_no_minimum_size(flip_evaluator):
    """FLIP's filters run on any image, so there is no NaN rule: even 1x1 equals the reference."""
    for shape in [(1, 1, 3), (2, 5, 3), (8, 8)]:
        a = np.full(shape, 40, np.uint8)
        b = np.full(shape, 200, np.uint8)
        value = plugin.mean_flip(a[None], b[None])[0]
        assert np.isfinite(value) and value == reference(a, b)


def test_rejects_what_it_cannot_score():
    with pytest.raises(TypeError, match="uint8"):
        plugin.mean_flip(np.zeros((1, 8, 8)), np.zeros((1, 8, 8)))
    with pytest.raises(ValueError, match="RGB"):
        plugin.mean_flip(np.zeros((1, 8, 8, 4), np.uint8), np.zeros((1, 8, 8, 4), np.uint8))


def test_registered_through_the_entry_point_and_optional(flip_evaluator):
    registry = build_registry()
    assert "flip" in registry.metrics, registry.failures
    registered = registry.metrics["flip"]
    assert registered.provenance.plugin == "flip" and registered.obj is plugin.FLIP
    assert registered.obj.optional and registered.obj.better == "lower"
    assert "flip" not in MetricSet.for_run(registry, ())
    metrics = MetricSet.for_run(registry, (), extra=("flip",))
    photo = astronaut()[::4, ::4]
    decoded = jpeg(photo, 30)
    values = metrics.measure(photo[None], decoded[None], np.array([1000]), 0)
    assert values["flip"][0] == reference(photo, decoded)
    assert "available" not in metrics.declarations()["flip"]


def test_imports_only_the_compbench_package_root():
    source = importlib.util.find_spec("compbench_metrics.flip").origin
    imports = [line for line in open(source) if line.startswith(("import compbench", "from compbench"))]
    assert imports == ["from compbench import Availability, Better, Metric, hookimpl\n"]


def test_unavailable_without_the_package_says_how_to_install_it(monkeypatch):
    installed = importlib.util.find_spec("flip_evaluator") is not None
    assert plugin.flip_available().ok == installed
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "flip_evaluator" else real(name, *a))
    availability = plugin.FLIP.available()
    assert not availability.ok
    assert "flip_evaluator" in availability.reason
    assert availability.fix == "pip install 'compbench[perceptual]'"

"""A pytest plugin (entry point ``pytest11``) giving plugin authors compbench fixtures."""

import pytest


@pytest.fixture
def compbench_sample_images():
    """The kit's deterministic 28x28 gray uint8 images (blob, gradient, noise, flat, checker,
    extremes), (6, 28, 28)."""
    from compbench.testing import sample_images

    return sample_images()


@pytest.fixture
def compbench_registry():
    """A fresh plugin registry with every installed compbench plugin."""
    from compbench.contracts.registry import build_registry

    return build_registry()

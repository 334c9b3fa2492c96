"""Conformance kit for codec plugin authors, in the shape of scikit-learn's ``check_estimator``.

In a plugin's own test suite::

    from compbench.testing import parametrize_codec_checks
    from my_plugin import MyFactory

    @parametrize_codec_checks(MyFactory())
    def test_conformance(check):
        check()

Each check is small and named, so a failure says what contract was broken.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

import numpy as np

from ..contracts.codec import CodecFactory
from ..contracts.errors import CompbenchError
from ..run.spec import make_spec


def sample_images(shape: tuple[int, ...] = (28, 28), count: int = 4, seed: int = 0) -> np.ndarray:
    """Deterministic test images: a digit-like blob, a gradient, noise, and a flat image."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    blob = 255 * np.exp(-(((yy - shape[0] / 2) ** 2 + (xx - shape[1] / 2) ** 2) / (shape[0] * 2)))
    gradient = 255 * xx / max(shape[1] - 1, 1)
    noise = rng.integers(0, 256, shape[:2])
    flat = np.full(shape[:2], 128)
    planes = [blob, gradient, noise, flat]
    images = np.stack([planes[i % 4] for i in range(count)]).astype(np.uint8)
    if len(shape) == 3:
        images = np.repeat(images[..., None], shape[2], axis=3)
    return images


def default_codec(factory: CodecFactory, **given):
    spec = make_spec(factory, given)
    return factory.create(**spec.kwargs)


def check_available(factory: CodecFactory, images: np.ndarray) -> None:
    status = factory.available()
    assert status.ok, f"{factory.name} not available: {status.reason} (fix: {status.fix})"


def check_params_declared(factory: CodecFactory, images: np.ndarray) -> None:
    names = [p.name for p in factory.params]
    assert len(names) == len(set(names)), f"duplicate parameter names: {names}"
    assert set(factory.rate_params) <= set(names), "rate_params must name declared parameters"
    for point in factory.ladder:
        make_spec(factory, point)  # every ladder point is a valid setting


def check_round_trip(factory: CodecFactory, images: np.ndarray) -> None:
    codec = default_codec(factory)
    for image in images:
        data = codec.encode(image)
        assert isinstance(data, bytes) and len(data) > 0, "encode must return non-empty bytes"
        decoded = codec.decode(data)
        assert decoded.shape == image.shape, f"decode gave shape {decoded.shape}, expected {image.shape}"
        assert decoded.dtype == np.uint8, f"decode gave dtype {decoded.dtype}, expected uint8"


def check_self_describing(factory: CodecFactory, images: np.ndarray) -> None:
    """A fresh codec instance (nothing shared but the settings) decodes the bytes."""
    data = default_codec(factory).encode(images[0])
    np.testing.assert_array_equal(default_codec(factory).decode(data), default_codec(factory).decode(data))


def check_deterministic(factory: CodecFactory, images: np.ndarray) -> None:
    first, second = default_codec(factory), default_codec(factory)
    for image in images:
        assert first.encode(image) == second.encode(image), "encoding the same image twice differs"


def check_batch_matches_single(factory: CodecFactory, images: np.ndarray) -> None:
    codec = default_codec(factory)
    blobs = codec.encode_batch(list(images))
    assert blobs == [codec.encode(image) for image in images], "encode_batch differs from encode"
    for batch, blob in zip(codec.decode_batch(blobs), blobs):
        np.testing.assert_array_equal(batch, codec.decode(blob))


def check_overhead_fits(factory: CodecFactory, images: np.ndarray) -> None:
    codec = default_codec(factory)
    overhead = codec.overhead_bytes(images.shape[1:])
    assert 0 <= overhead <= min(len(codec.encode(image)) for image in images)


def check_rejects_unknown_param(factory: CodecFactory, images: np.ndarray) -> None:
    try:
        make_spec(factory, {"no_such_parameter": "1"})
    except CompbenchError as exc:
        assert "no_such_parameter" in str(exc)
    else:
        raise AssertionError("an unknown parameter was accepted")


def check_rejects_out_of_range(factory: CodecFactory, images: np.ndarray) -> None:
    for param in factory.params:
        if param.high is not None:
            try:
                make_spec(factory, {param.name: str(param.high * 10 + 1)})
            except CompbenchError as exc:
                assert param.name in str(exc)
            else:
                raise AssertionError(f"{param.name} above its range was accepted")


CODEC_CHECKS = (
    check_available, check_params_declared, check_round_trip, check_self_describing,
    check_deterministic, check_batch_matches_single, check_overhead_fits,
    check_rejects_unknown_param, check_rejects_out_of_range,
)


def codec_checks(factory: CodecFactory, images: np.ndarray | None = None) -> Iterator[Callable[[], None]]:
    """Yield each conformance check bound to the factory and images (named for test ids)."""
    images = sample_images() if images is None else images
    for check in CODEC_CHECKS:
        bound = partial(check, factory, images)
        bound.__name__ = check.__name__  # type: ignore[attr-defined]
        yield bound


def parametrize_codec_checks(factory: CodecFactory, images: np.ndarray | None = None):
    import pytest

    checks = list(codec_checks(factory, images))
    return pytest.mark.parametrize("check", checks, ids=[f"{factory.name}-{c.__name__}" for c in checks])

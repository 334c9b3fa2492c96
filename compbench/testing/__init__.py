"""Conformance kit for codec plugins, in the shape of scikit-learn's ``check_estimator``.

In a plugin's own test suite::

    from compbench.testing import parametrize_codec_checks
    from my_plugin import MyFactory

    @parametrize_codec_checks(MyFactory())
    def test_conformance(check):
        check()

or, without pytest, ``compbench.check_codec(MyFactory())``. Each check is small and named
(:data:`CHECK_NAMES`), so a failure says which rule of the codec contract was broken and what
arrived instead. See docs/plugins.md, "The conformance kit".
"""

from .checks import CHECKS, DEFAULT_FIDELITY_FLOOR, Kit
from .images import DEFAULT_SIZES, SAMPLE_NAMES, sample_images
from .kit import (
    CHECK_NAMES,
    DEFAULT_TIME_LIMIT,
    CheckResult,
    CheckStatus,
    CodecCheck,
    CodecReport,
    ConformanceError,
    check_codec,
    codec_checks,
    parametrize_codec_checks,
)

__all__ = [
    "CHECKS",
    "CHECK_NAMES",
    "DEFAULT_FIDELITY_FLOOR",
    "DEFAULT_SIZES",
    "DEFAULT_TIME_LIMIT",
    "SAMPLE_NAMES",
    "CheckResult",
    "CheckStatus",
    "CodecCheck",
    "CodecReport",
    "ConformanceError",
    "Kit",
    "check_codec",
    "codec_checks",
    "parametrize_codec_checks",
    "sample_images",
]

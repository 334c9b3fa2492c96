"""Running the checks: as pytest parameters, as plain callables, or all at once without pytest.

A check runs in this process under a time limit (SIGALRM, in the main thread of POSIX systems),
so a codec that hangs fails the check instead of stalling the suite. A codec that kills the
process (a segfault, abort, the OOM killer) cannot be caught in-process; that is what the
runner's worker isolation is for, and the kit does not try.
"""

from __future__ import annotations

import signal
import threading
import unittest
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum

from ..contracts.codec import CodecFactory
from .checks import CHECKS, Kit, one_line

#: seconds a single check may take before it fails as a hang
DEFAULT_TIME_LIMIT = 120.0
CHECK_NAMES = tuple(check.__name__ for check in CHECKS)


class CheckTimeout(BaseException):
    """A check ran out of time. A BaseException, so that nothing on the way (the codec, the
    kit's own error handling) can swallow it."""


class ConformanceError(AssertionError):
    """check_codec found checks that failed; ``report`` holds every result."""

    def __init__(self, report: CodecReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass
class CodecCheck:
    """One check bound to a kit: call it to run it (it raises AssertionError on failure, and
    unittest.SkipTest, which pytest honours, when the codec is unavailable here)."""

    name: str
    kit: Kit
    function: Callable[[Kit], None]
    #: why the check is known to fail (pytest: a strict xfail), or None
    expected_failure: str | None = None
    #: why the codec cannot run here (pytest: a skip), or None
    skip_reason: str | None = None
    time_limit: float | None = DEFAULT_TIME_LIMIT

    @property
    def __name__(self) -> str:  # noqa: A003 (named like the function it wraps, for test ids)
        return self.name

    @property
    def id(self) -> str:
        return f"{self.kit.factory.name}-{self.name}"

    def __call__(self) -> None:
        if self.skip_reason:
            raise unittest.SkipTest(self.skip_reason)
        with time_limit(self.time_limit, f"{self.name} for {self.kit.factory.name}"):
            try:
                self.function(self.kit)
            except CheckTimeout as exc:
                raise AssertionError(str(exc)) from None
            except AssertionError:
                raise
            except Exception as exc:  # e.g. the factory's validate() refusing its own defaults
                raise AssertionError(f"{self.name} raised {type(exc).__name__}: {one_line(exc)}") from exc

    def __repr__(self) -> str:
        return f"<CodecCheck {self.id}>"


@contextmanager
def time_limit(seconds: float | None, what: str) -> Iterator[None]:
    """Raise CheckTimeout after ``seconds`` (no limit when None/0, off the main thread, or
    without SIGALRM)."""
    usable = seconds and hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise CheckTimeout(f"{what} took longer than {seconds:g} s (time_limit): does the codec hang?")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def unavailable_reason(factory: CodecFactory) -> str | None:
    """Why the codec cannot run here ('jpeg not available: ... (fix: ...)'), or None."""
    try:
        status = factory.available()
    except Exception:  # a broken available() is the plugin's bug: run the checks, which show it
        return None
    if status.ok:
        return None
    return f"{factory.name} not available: {status.reason}" + (f" (fix: {status.fix})" if status.fix else "")


def codec_checks(factory: CodecFactory, images=None, expected_failures: Mapping[str, str] | None = None,
                 time_limit: float | None = DEFAULT_TIME_LIMIT) -> Iterator[CodecCheck]:
    """Every conformance check for one codec, as callables named after the check.

    ``images``: uint8 images, (N, H, W[, C]) or a list of arrays, to use instead of the kit's
    own content (a learned codec passes the data it was made for); None for the kit's images.
    ``expected_failures``: {check name: reason} for checks known to fail.
    """
    expected = dict(expected_failures or {})
    unknown = sorted(set(expected) - set(CHECK_NAMES))
    if unknown:
        raise ValueError(f"expected_failures names unknown checks {unknown}; valid: {', '.join(CHECK_NAMES)}")
    kit = Kit(factory, images)
    skip = unavailable_reason(factory)
    for check in CHECKS:
        yield CodecCheck(check.__name__, kit, check, expected.get(check.__name__), skip, time_limit)


def _per_factory(value, factory: CodecFactory):
    return value(factory) if callable(value) else value


def parametrize_codec_checks(factories: CodecFactory | Iterable[CodecFactory], images=None,
                             expected_failures=None, time_limit: float | None = DEFAULT_TIME_LIMIT):
    """A ``pytest.mark.parametrize`` over every check of one codec (or several), for::

        @parametrize_codec_checks(MyFactory(), images=my_images)
        def test_conformance(check):
            check()

    Checks of an unavailable codec are skipped with the reason; ``expected_failures``
    ({check name: reason}) become strict xfails. With several factories, ``images`` and
    ``expected_failures`` may be callables taking the factory.
    """
    import pytest

    if isinstance(factories, CodecFactory):
        factories = [factories]
    params = []
    for factory in factories:
        for check in codec_checks(factory, _per_factory(images, factory),
                                  _per_factory(expected_failures, factory), time_limit):
            marks = []
            if check.skip_reason:
                marks.append(pytest.mark.skip(reason=check.skip_reason))
            elif check.expected_failure:
                marks.append(pytest.mark.xfail(strict=True, reason=check.expected_failure))
            params.append(pytest.param(check, marks=marks, id=check.id))
    return pytest.mark.parametrize("check", params)


class CheckStatus(StrEnum):
    """How one check of :func:`check_codec` ended (a str: ``status == "passed"`` holds)."""

    PASSED = "passed"
    FAILED = "failed"
    EXPECTED_FAILURE = "expected failure"  # listed in expected_failures, and it failed
    PASSED_UNEXPECTEDLY = "passed unexpectedly"  # listed in expected_failures, but it passed
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: CheckStatus
    message: str = ""


@dataclass
class CodecReport:
    """What check_codec found, check by check."""

    codec: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def failed(self) -> list[CheckResult]:
        """Checks that failed, and expected failures that passed (their entry is out of date)."""
        return [r for r in self.results if r.status in (CheckStatus.FAILED, CheckStatus.PASSED_UNEXPECTEDLY)]

    @property
    def ok(self) -> bool:
        return not self.failed

    def status(self, name: str) -> CheckResult:
        return next(r for r in self.results if r.name == name)

    def __str__(self) -> str:
        counts = {}
        for result in self.results:
            counts[result.status] = counts.get(result.status, 0) + 1
        head = f"{self.codec}: " + ", ".join(f"{n} {status}" for status, n in counts.items())
        lines = [f"  {r.name}: {r.status}" + (f": {r.message}" if r.message else "")
                 for r in self.results if r.status != CheckStatus.PASSED]
        return "\n".join([head, *lines])


def check_codec(factory: CodecFactory, images=None, expected_failures: Mapping[str, str] | None = None,
                time_limit: float | None = DEFAULT_TIME_LIMIT) -> CodecReport:
    """Run every check without pytest. Returns the report; raises :class:`ConformanceError` (an
    AssertionError) naming each failed check. An unavailable codec's checks are all skipped
    with the reason (no error)."""
    report = CodecReport(factory.name)
    for check in codec_checks(factory, images, expected_failures, time_limit):
        try:
            check()
        except unittest.SkipTest as exc:
            report.results.append(CheckResult(check.name, CheckStatus.SKIPPED, str(exc)))
        except AssertionError as exc:
            if check.expected_failure:
                report.results.append(CheckResult(check.name, CheckStatus.EXPECTED_FAILURE,
                                                  f"{check.expected_failure} ({one_line(exc)})"))
            else:
                report.results.append(CheckResult(check.name, CheckStatus.FAILED, one_line(exc)))
        else:
            if check.expected_failure:
                report.results.append(CheckResult(check.name, CheckStatus.PASSED_UNEXPECTEDLY,
                                                  f"listed in expected_failures ({check.expected_failure})"))
            else:
                report.results.append(CheckResult(check.name, CheckStatus.PASSED))
    if not report.ok:
        raise ConformanceError(report)
    return report

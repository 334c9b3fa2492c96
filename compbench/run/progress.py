"""A run's progress on stderr (no dependency).

On a terminal one line is redrawn in place, at least every second, also while a long unit is
coding (a ticker thread); on a file or a CI log a line is printed at each tenth of the work and
at least every 10 s, so a log stays short but shows the run is alive. After the coding, each of
the run's last phases (summary, figures, report) prints a line as it starts.

The pace (images per second) and the ETA are measured from the first finished unit on: the
first unit's time includes starting the workers and loading the codecs, and extrapolating from
it told a 150-s MNIST sweep it had 2202 s to go. Until a second unit has finished a second
after the first, the ETA is "?".
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable

#: the ticker's period: a terminal line is redrawn (and a log's silence checked) this often
TICK_S = 1.0
#: on a file or a log, a line at least this often (and at every tenth of the work)
LOG_EVERY_S = 10.0
#: units finishing faster than this apart redraw the terminal line once
MIN_REDRAW_S = 0.1
#: the pace is measured over at least this long: two workers' first units finish together
MIN_PACE_S = 1.0

# Everything that writes the line holds this lock, and so does a fork while it runs: a worker
# forked while the ticker thread was inside stderr's write would inherit stderr's buffer lock
# held forever (fork copies only the forking thread).
_DRAWING = threading.Lock()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_DRAWING.acquire, after_in_parent=_DRAWING.release,
                        after_in_child=_DRAWING.release)


class Pace:
    """Images per second from the first finished unit to the latest, and the time left."""

    def __init__(self) -> None:
        self.first: tuple[float, int] | None = None  # (time, images done) when the first unit finished
        self.last: tuple[float, int] | None = None

    def record(self, now: float, done: int) -> None:
        if self.first is None:
            self.first = (now, done)
        self.last = (now, done)

    def rate(self) -> float | None:
        if self.first is None or self.last is None:
            return None
        seconds, images = self.last[0] - self.first[0], self.last[1] - self.first[1]
        return images / seconds if images > 0 and seconds >= MIN_PACE_S else None

    def eta(self, now: float, total: int) -> float | None:
        """Seconds left: the images left at the measured rate, counting down since the latest unit."""
        rate = self.rate()
        if rate is None:
            return None
        return max((total - self.last[1]) / rate - (now - self.last[0]), 0.0)


class ProgressBar:
    """``advance`` as each unit finishes; ``close`` (or leaving a ``with`` block) at the end.
    ``clock`` and ``tick`` (None: no ticker thread) are for tests."""

    def __init__(self, total: int, enabled: bool = True, stream=None, width: int = 28, *,
                 clock: Callable[[], float] = time.monotonic, tick: float | None = TICK_S) -> None:
        self.total, self.done, self.width, self.label = max(total, 1), 0, width, ""
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.clock = clock
        self.start = clock()
        self.pace = Pace()
        self._drawn, self._logged, self._decile = -math.inf, self.start, 0
        self._stop = threading.Event()
        self._ticker = None
        if enabled and tick:
            self._ticker = threading.Thread(target=self._tick, args=(tick,), name="compbench-progress", daemon=True)
            self._ticker.start()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def advance(self, count: int, label: str = "") -> None:
        with _DRAWING:
            self.done += count
            self.label = label or self.label
            self.pace.record(self.clock(), self.done)
            if self.enabled:
                self._show(unit_finished=True)

    def refresh(self) -> None:
        """Redraw (terminal) or print a line if the log has been quiet for LOG_EVERY_S."""
        with _DRAWING:
            if self.enabled:
                self._show(unit_finished=False)

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()  # no thread outlives the bar (workers fork only without threads)
            self._ticker = None
        if self.enabled and self.interactive:
            with _DRAWING:
                self._write("\r" + self._fit(self.line(self.clock())) + "\n")

    def line(self, now: float) -> str:
        fraction = min(self.done / self.total, 1.0)
        filled = int(fraction * self.width)
        rate, eta = self.pace.rate(), self.pace.eta(now, self.total)
        parts = [f"[{'#' * filled}{'-' * (self.width - filled)}]", f"{self.done}/{self.total} images",
                 f"({fraction:4.0%})", duration(now - self.start),
                 *([f"{rate:.3g} images/s"] if rate else []), f"eta {'?' if eta is None else duration(eta)}",
                 self.label]
        return " ".join(part for part in parts if part)

    def _tick(self, period: float) -> None:
        while not self._stop.wait(period):
            self.refresh()

    def _show(self, unit_finished: bool) -> None:
        now = self.clock()
        if self.interactive:
            if unit_finished and now - self._drawn < MIN_REDRAW_S:
                return
            self._drawn = now
            self._write("\r" + self._fit(self.line(now)))
            return
        decile = int(10 * self.done / self.total)
        if decile > self._decile or now - self._logged >= LOG_EVERY_S:
            self._decile, self._logged = max(decile, self._decile), now
            self._write(self.line(now) + "\n")

    def _fit(self, line: str) -> str:
        """The line cut to the terminal (a wrapped line breaks the redraw) and padded over the last."""
        columns = shutil.get_terminal_size().columns - 1
        return line[:columns].ljust(columns)

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()


def duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def phase(name: str, enabled: bool = True, stream=None) -> None:
    """A line as one of a run's last phases starts (``summary``, ``figures``, ``report``): on
    photographs they take tens of seconds in which nothing else is printed."""
    if enabled:
        stream = stream or sys.stderr
        with _DRAWING:
            stream.write(f"{name}...\n")
            stream.flush()

"""A small progress bar on stderr (no dependency): redraws in place on a terminal, and prints
a line every 10% when stderr is a file or a CI log."""

from __future__ import annotations

import sys
import time


class ProgressBar:
    def __init__(self, total: int, enabled: bool = True, stream=None, width: int = 28) -> None:
        self.total, self.done, self.width = max(total, 1), 0, width
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty()
        self.start = time.perf_counter()
        self._last_decile = -1

    def advance(self, count: int, label: str = "") -> None:
        self.done += count
        if not self.enabled:
            return
        fraction = min(self.done / self.total, 1.0)
        elapsed = time.perf_counter() - self.start
        eta = elapsed / fraction - elapsed if fraction > 0 else 0
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (f"[{bar}] {self.done}/{self.total} images ({fraction:4.0%}) "
                f"{elapsed:5.1f}s, eta {eta:4.1f}s  {label}")
        if self.interactive:
            self.stream.write("\r" + line[:120].ljust(120))
            self.stream.flush()
        elif int(fraction * 10) > self._last_decile:
            self._last_decile = int(fraction * 10)
            self.stream.write(line + "\n")

    def close(self) -> None:
        if self.enabled and self.interactive:
            self.stream.write("\n")
            self.stream.flush()

"""Stopping a run from outside: SIGTERM (what a supervisor sends) takes the same way out as
Ctrl-C, and either ends as :class:`RunInterrupted` once the records on disk are whole."""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C or SIGTERM; every finished unit's records are on disk."""

    def __init__(self, signal_name: str, records: int, out_dir: Path | None) -> None:
        super().__init__(signal_name)
        self.signal_name, self.records, self.out_dir = signal_name, records, out_dir

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports it: 130 for SIGINT, 143 for SIGTERM."""
        return 128 + int(getattr(signal.Signals, self.signal_name, signal.SIGINT))

    def message(self) -> str:
        where = f"{self.records} records kept in {self.out_dir}; finish with --resume" if self.out_dir \
            else "nothing was written"
        return f"compbench: interrupted ({self.signal_name}); {where}"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is (see :func:`interrupts_raised`)."""


def signal_name(interrupt: KeyboardInterrupt) -> str:
    return "SIGTERM" if isinstance(interrupt, Terminated) else "SIGINT"


@contextmanager
def interrupts_raised():
    """While inside: SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread."""
    def on_term(signum, frame):
        raise Terminated("SIGTERM")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)

"""The run's progress output, on a fake clock: what a terminal and a CI log show, and when."""

import io
import os
import threading

from compbench.run.progress import LOG_EVERY_S, Pace, ProgressBar, duration, phase


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def bar_on(stream, total=1000, clock=None) -> tuple[ProgressBar, Clock]:
    clock = clock or Clock()
    return ProgressBar(total, stream=stream, clock=clock, tick=None), clock


def test_the_eta_is_unknown_until_the_pace_is_measured_after_the_first_unit():
    log = io.StringIO()
    bar, clock = bar_on(log)
    clock.now += 20  # starting the workers: 20 s before the first unit of 10 images
    bar.advance(10, "jpeg:quality=75")
    assert log.getvalue().endswith("eta ? jpeg:quality=75\n")  # 20 s of silence: a line
    assert bar.line(clock.now).endswith("eta ? jpeg:quality=75")
    clock.now += 2
    bar.advance(190)  # 190 images in the 2 s after the first unit: 95 images/s
    line = bar.line(clock.now)
    assert "95 images/s" in line and "eta 8s" in line  # 800 left at 95/s, not 20 s x 100 units
    clock.now += 3  # between units the ETA counts down
    assert bar.line(clock.now).endswith("eta 5s jpeg:quality=75")


def test_a_log_gets_a_line_each_tenth_and_at_least_every_10_s():
    log = io.StringIO()
    bar, clock = bar_on(log)
    for _ in range(4):  # 40 images, 1 s apart: no tenth reached, less than 10 s
        clock.now += 1
        bar.advance(10)
    assert log.getvalue() == ""
    clock.now += 1
    bar.advance(60)  # 100 images: the first tenth
    assert log.getvalue().splitlines()[-1].startswith("[##---")
    clock.now += LOG_EVERY_S - 1
    bar.refresh()  # the ticker's call: quiet for 9 s, nothing yet
    assert len(log.getvalue().splitlines()) == 1
    clock.now += 1
    bar.refresh()  # 10 s of silence: a line, though no unit finished
    assert len(log.getvalue().splitlines()) == 2
    bar.advance(900)
    bar.close()
    lines = log.getvalue().splitlines()
    assert len(lines) == 3 and "1000/1000 images (100%)" in lines[-1]
    assert "\r" not in log.getvalue()


def test_a_terminal_line_is_redrawn_in_place_and_ends_with_a_newline(monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    screen = Terminal()
    bar, clock = bar_on(screen, total=10)
    clock.now += 1
    bar.advance(1, "webp:quality=50")
    bar.advance(1)  # at the same moment: not drawn again
    assert screen.getvalue().count("\r") == 1
    clock.now += 1
    bar.refresh()
    bar.close()
    text = screen.getvalue()
    assert text.count("\r") == 3 and text.endswith("\n")
    assert all(len(line) == 59 for line in text.rstrip("\n").split("\r")[1:])  # cut to the terminal


def test_a_disabled_bar_prints_nothing():
    log = io.StringIO()
    bar, clock = bar_on(log)
    bar.enabled = False
    bar.advance(1000)
    bar.close()
    phase("figures", enabled=False, stream=log)
    assert log.getvalue() == ""


def test_the_ticker_redraws_between_units_and_stops_with_the_bar():
    screen = Terminal()
    before = threading.active_count()
    with ProgressBar(10, stream=screen, tick=0.01) as bar:
        bar.advance(1)
        while screen.getvalue().count("\r") < 3:  # the ticker's redraws, with no unit finishing
            threading.Event().wait(0.01)
    assert threading.active_count() == before  # workers fork only where no other thread runs


def test_phases_print_a_line_each():
    log = io.StringIO()
    for name in ("summary", "figures", "report"):
        phase(name, stream=log)
    assert log.getvalue() == "summary...\nfigures...\nreport...\n"


def test_pace_needs_a_second_of_work_after_the_first_unit():
    pace = Pace()
    pace.record(10.0, 5)
    pace.record(10.2, 10)  # the other worker's first unit, right after: no pace yet
    assert pace.rate() is None and pace.eta(10.2, 100) is None
    pace.record(12.0, 25)
    assert pace.rate() == 10.0 and pace.eta(12.0, 100) == 7.5


def test_durations_read_at_a_glance():
    assert [duration(s) for s in (0.4, 42, 185, 3725)] == ["0s", "42s", "3m05s", "1h02m"]


def test_a_fork_waits_for_a_redraw_to_finish():
    """The lock a redraw holds is taken around fork, so a child never inherits it held."""
    if not hasattr(os, "fork"):
        return
    bar, clock = bar_on(io.StringIO())
    pid = os.fork()
    if pid == 0:  # the child: the lock is free, so drawing works
        try:
            bar.refresh()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0

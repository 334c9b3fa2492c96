"""Headless Chromium for tests, driven over the DevTools protocol on a pipe (stdlib only).

``--remote-debugging-pipe`` makes Chromium read JSON commands from fd 3 and write replies and
events to fd 4, each message ended by a NUL byte: no websocket, no port, no extra package.

    with Browser(find_chromium()) as browser:
        page = browser.open(path.as_uri())
        page.evaluate("document.title")
        page.screenshot(tmp / "page.png")
        page.errors      # console errors, uncaught exceptions, failed loads
        page.requests    # every URL the page asked for
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-default-apps", "--disable-extensions", "--mute-audio",
         "--hide-scrollbars", "--remote-debugging-pipe")


class BrowserError(RuntimeError):
    pass


def find_chromium() -> str | None:
    """$CHROMIUM, else the first of chromium, chromium-browser, google-chrome on PATH."""
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        path = name and shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """One headless Chromium with a fresh profile; everything must finish within ``timeout``
    seconds, after which the browser's process group is killed."""

    def __init__(self, executable: str, timeout: float = 60.0, width: int = 1280, height: int = 900):
        self.executable, self.width, self.height = executable, width, height
        self.deadline = time.monotonic() + timeout
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []

    def __enter__(self):
        self.profile = tempfile.mkdtemp(prefix="compbench-chromium-")
        self.log = open(Path(self.profile) / "stderr.log", "w+b")
        to_r, self._to_w = _high_pipe()
        self._from_r, from_w = _high_pipe()

        def give_pipe_to_child() -> None:  # between fork and exec: the pipe becomes fds 3 and 4
            os.dup2(to_r, 3)
            os.dup2(from_w, 4)

        self.process = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log,
            close_fds=False,  # fds 3 and 4 must survive; the pipes' own fds are close-on-exec
            # the hook only calls os.dup2, and pytest runs tests in one thread
            preexec_fn=give_pipe_to_child, start_new_session=True)  # noqa: PLW1509
        os.close(to_r)
        os.close(from_w)
        return self

    def __exit__(self, *exc_info) -> None:
        try:
            if self.process.poll() is None:
                self._send("Browser.close")
                self.process.wait(timeout=max(1.0, min(10.0, self.deadline - time.monotonic())))
        except (BrowserError, OSError, subprocess.TimeoutExpired):
            pass
        finally:
            try:  # the browser and its helpers share the session started above
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait()
            os.close(self._to_w)
            os.close(self._from_r)
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)

    def stderr(self) -> str:
        self.log.flush()
        return (Path(self.profile) / "stderr.log").read_text(errors="replace")

    # -------------------------------------------------------------- protocol

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send one command and wait for its reply; events read meanwhile are kept."""
        ident = self._send(method, params, session)
        while True:
            message = self._receive()
            if message.get("id") == ident:
                if "error" in message:
                    raise BrowserError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self._events.append(message)

    def wait_for(self, event: str, session: str | None = None) -> dict:
        """The first event of this name (already received or yet to come)."""
        while True:
            for i, message in enumerate(self._events):
                if message["method"] == event and message.get("sessionId") == session:
                    return self._events.pop(i)
            message = self._receive()
            if "method" in message:
                self._events.append(message)

    def events(self, session: str | None = None) -> list[dict]:
        return [m for m in self._events if m.get("sessionId") == session]

    def open(self, url: str, offline: bool = False) -> Page:
        """A new tab showing ``url``, loaded (images included: the load event waits for them);
        ``offline``: with the network switched off first (any fetch fails, as on a plane)."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=session)
        if offline:
            self.call("Network.emulateNetworkConditions", {"offline": True, "latency": 0, "downloadThroughput": -1,
                                                           "uploadThroughput": -1}, session=session)
        self.call("Emulation.setDeviceMetricsOverride", {"width": self.width, "height": self.height,
                                                         "deviceScaleFactor": 1, "mobile": False},
                  session=session)
        reply = self.call("Page.navigate", {"url": url}, session=session)
        if reply.get("errorText"):
            raise BrowserError(f"cannot open {url}: {reply['errorText']}")
        self.wait_for("Page.loadEventFired", session)
        return Page(self, session)

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            self._wait(self._to_w, write=True)
            data = data[os.write(self._to_w, data):]
        return self._next_id

    def _receive(self) -> dict:
        while b"\0" not in self._buffer:
            self._wait(self._from_r)
            chunk = os.read(self._from_r, 1 << 20)
            if not chunk:
                raise BrowserError(f"chromium closed the pipe (exit code {self.process.poll()}):\n"
                                   + self.stderr()[-3000:])
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _wait(self, fd: int, write: bool = False) -> None:
        remaining = self.deadline - time.monotonic()
        ready = remaining > 0 and select.select([] if write else [fd], [fd] if write else [], [], remaining)
        if not ready or not any(ready):
            raise BrowserError(f"chromium did not answer in time:\n{self.stderr()[-3000:]}")


class Page:
    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session

    def evaluate(self, expression: str):
        """The JSON value of a JavaScript expression (promises are awaited)."""
        reply = self.browser.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                       "returnByValue": True}, session=self.session)
        if "exceptionDetails" in reply:
            raise BrowserError(f"JavaScript failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path, max_height: int = 12000) -> Path:
        """The whole page (up to ``max_height`` pixels tall) as a PNG."""
        height = min(max_height, int(self.evaluate("document.documentElement.scrollHeight")))
        clip = {"x": 0, "y": 0, "width": self.browser.width, "height": height, "scale": 1}
        reply = self.browser.call("Page.captureScreenshot", {"format": "png", "clip": clip,
                                                             "captureBeyondViewport": True},
                                  session=self.session)
        Path(path).write_bytes(base64.b64decode(reply["data"]))
        return Path(path)

    def resize(self, width: int, height: int) -> None:
        """The viewport as a screen of this size (CSS pixels)."""
        self.browser.width, self.browser.height = width, height
        self.browser.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                 "deviceScaleFactor": 1, "mobile": False},
                          session=self.session)

    def mouse(self, kind: str, x: float, y: float, clicks: int = 0) -> None:
        """A real mouse event at viewport (x, y): "mouseMoved", "mousePressed", "mouseReleased"."""
        params = {"type": kind, "x": x, "y": y, "button": "left" if clicks else "none", "clickCount": clicks}
        self.browser.call("Input.dispatchMouseEvent", params, session=self.session)

    def click(self, x: float, y: float) -> None:
        self.mouse("mouseMoved", x, y)
        self.mouse("mousePressed", x, y, clicks=1)
        self.mouse("mouseReleased", x, y, clicks=1)

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions, log errors (failed or blocked loads)."""
        found = []
        for event in self.browser.events(self.session):
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                    for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                found.append("exception: " + str(details.get("exception", {}).get("description")
                                                 or details.get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                entry = params["entry"]
                found.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}")
            elif method == "Network.loadingFailed":
                found.append(f"load failed: {params.get('errorText')}")
        return found

    @property
    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.browser.events(self.session)
                if e["method"] == "Network.requestWillBeSent"]


def _high_pipe() -> tuple[int, int]:
    """A pipe whose fds are 10 or above (so that dup2 onto 3 and 4 clobbers neither end)."""
    ends = []
    for fd in os.pipe():
        ends.append(fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10))
        os.close(fd)
    return ends[0], ends[1]

"""A minimal headless-Chromium driver for the browser tests, on the standard library only.

Chromium started with ``--remote-debugging-pipe`` reads DevTools-protocol commands from file
descriptor 3 and writes responses and events to file descriptor 4, each message one JSON object
ended by a NUL byte. That is all a test needs (navigate, evaluate JavaScript, watch the network,
take screenshots), so there is no chromedriver, websocket or Selenium dependency: only the
distribution's ``chromium`` package.

Used by tests/test_browser.py::

    with Chromium() as browser:
        page = browser.new_page(width=1280, height=900)
        page.navigate("http://127.0.0.1:8000/index.html")
        title = page.evaluate("document.title")
        png = page.screenshot(full_page=True)
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["find_chromium", "Chromium", "Page", "CDPError"]

# Nothing may leave the machine: every host name resolves to nothing except localhost (IP
# literals such as 127.0.0.1 are not resolved at all), and the background services are off.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
    "--remote-debugging-pipe",
]


class CDPError(RuntimeError):
    """The browser answered a command with an error, died, or did not answer in time."""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$CHROMIUM`` first), or None."""
    candidates = [os.environ.get("CHROMIUM", ""), "chromium", "chromium-browser",
                  "google-chrome", "google-chrome-stable"]
    for name in candidates:
        if name and (path := shutil.which(name)):
            return path
    return None


def _high_pipe() -> tuple[int, int]:
    """A pipe whose descriptors are >= 10, so the redirections to 3 and 4 cannot clobber them."""
    r, w = os.pipe()
    try:
        return fcntl.fcntl(r, fcntl.F_DUPFD_CLOEXEC, 10), fcntl.fcntl(w, fcntl.F_DUPFD_CLOEXEC, 10)
    finally:
        os.close(r)
        os.close(w)


class Chromium:
    """A headless Chromium process with a fresh profile, spoken to over the DevTools pipe."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise FileNotFoundError("no chromium executable on PATH (apt-get install chromium)")
        self.timeout = timeout
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []
        self._proc: subprocess.Popen | None = None
        self._profile = self._stderr = self._cmd_write = self._res_read = None

    # -- process --------------------------------------------------------------------------------

    def __enter__(self) -> "Chromium":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="symdp-chromium-")
        self._stderr = tempfile.TemporaryFile()
        cmd_read, self._cmd_write = _high_pipe()  # we write commands, the browser reads fd 3
        self._res_read, res_write = _high_pipe()  # the browser writes fd 4, we read
        args = [self.executable, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"]
        try:
            # bash puts the pipe ends on descriptors 3 and 4, then exec's the browser (dash
            # cannot: it only redirects descriptors 0-9).
            self._proc = subprocess.Popen(
                ["bash", "-c", f'exec "$0" "$@" 3<&{cmd_read} 4>&{res_write}', *args],
                pass_fds=(cmd_read, res_write), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=self._stderr,
            )
        finally:
            os.close(cmd_read)
            os.close(res_write)
        try:
            self.version = self.send("Browser.getVersion")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Ask the browser to quit (kill it if it does not), free the pipes and the profile."""
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            try:
                self._send_nowait("Browser.close")
                proc.wait(timeout=10)
            except (OSError, CDPError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        for name in ("_cmd_write", "_res_read"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    os.close(fd)
                except OSError:
                    pass
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._profile is not None:
            self._profile.cleanup()
            self._profile = None

    def stderr_tail(self, n: int = 2000) -> str:
        if self._stderr is None:
            return ""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-n:]

    # -- protocol -------------------------------------------------------------------------------

    def _send_nowait(self, method: str, params: dict | None = None,
                     session: str | None = None) -> int:
        self._next_id += 1
        msg: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        try:
            while data:
                data = data[os.write(self._cmd_write, data):]
        except BrokenPipeError:
            raise CDPError(f"chromium is not running (sending {method}): "
                           f"{self.stderr_tail()}") from None
        return self._next_id

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        """Send one command and return its ``result`` (events that arrive meanwhile are kept)."""
        want = self._send_nowait(method, params, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            for i, m in enumerate(self._events):
                if m.get("id") == want:
                    del self._events[i]
                    if "error" in m:
                        raise CDPError(f"{method}: {m['error'].get('message')} "
                                       f"{m['error'].get('data', '')}".strip())
                    return m.get("result", {})
            self._read(deadline, f"an answer to {method}")

    def _read(self, deadline: float, what: str) -> None:
        """Read at least one message into the queue, or raise at the deadline."""
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CDPError(f"timed out waiting for {what}")
            ready, _, _ = select.select([self._res_read], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self._res_read, 1 << 20)
                if not chunk:
                    raise CDPError(f"chromium exited while waiting for {what}: "
                                   f"{self.stderr_tail()}")
                self._buffer += chunk
        while b"\0" in self._buffer:
            raw, self._buffer = self._buffer.split(b"\0", 1)
            self._events.append(json.loads(raw))

    def pop_events(self, session: str | None = None) -> list[dict]:
        """Every event received so far (for ``session``), removed from the queue."""
        taken = [m for m in self._events if "method" in m
                 and (session is None or m.get("sessionId") == session)]
        self._events = [m for m in self._events if not any(m is t for t in taken)]
        return taken

    def wait_event(self, method: str, session: str | None, timeout: float) -> dict:
        """Wait for the next event named ``method`` (earlier events stay queued)."""
        deadline = time.monotonic() + timeout
        while True:
            for m in self._events:
                if m.get("method") == method and (session is None or m.get("sessionId") == session):
                    self._events.remove(m)
                    return m.get("params", {})
            self._read(deadline, method)

    def new_page(self, width: int = 1280, height: int = 900) -> "Page":
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        return Page(self, session, width, height)


class Page:
    """One tab: navigation, JavaScript evaluation, network log, screenshots."""

    def __init__(self, browser: Chromium, session: str, width: int, height: int):
        self.browser, self.session = browser, session
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.send(f"{domain}.enable")
        self.send("Network.setCacheDisabled", {"cacheDisabled": True})
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.width, self.height = width, height
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.errors: list[str] = []

    def send(self, method: str, params: dict | None = None, timeout: float | None = None) -> dict:
        return self.browser.send(method, params, self.session, timeout)

    def navigate(self, url: str, timeout: float = 60.0) -> None:
        """Load ``url`` and wait for its load event; the network log starts afresh."""
        self._collect()
        self.requests, self.failures, self.errors = [], [], []
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise CDPError(f"navigating to {url}: {result['errorText']}")
        self.browser.wait_event("Page.loadEventFired", self.session, timeout)

    def evaluate(self, expression: str, timeout: float = 60.0) -> Any:
        """Value of a JavaScript expression (promises awaited), as JSON."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True}, timeout=timeout)
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"JavaScript error: {text}")
        return result["result"].get("value")

    def screenshot(self, path: Path | None = None, full_page: bool = False) -> bytes:
        """A PNG of the viewport, or of the whole page (``full_page``)."""
        params: dict[str, Any] = {"format": "png"}
        if full_page:
            metrics = self.send("Page.getLayoutMetrics")
            size = metrics.get("cssContentSize") or metrics["contentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": self.width,
                              "height": min(int(size["height"]) + 1, 16000), "scale": 1}
            params["captureBeyondViewport"] = True
        data = base64.b64decode(self.send("Page.captureScreenshot", params)["data"])
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_bytes(data)
        return data

    def network_log(self) -> tuple[list[str], list[str], list[str]]:
        """``(requested URLs, failed loads, JavaScript errors and console errors)`` so far."""
        self._collect()
        return list(self.requests), list(self.failures), list(self.errors)

    def _collect(self) -> None:
        for m in self.browser.pop_events(self.session):
            method, p = m["method"], m.get("params", {})
            if method == "Network.requestWillBeSent":
                self.requests.append(p["request"]["url"])
            elif method == "Network.loadingFailed" and not p.get("canceled"):
                self.failures.append(f"{p.get('type', '?')} request failed: {p.get('errorText')}"
                                     f" ({p.get('requestId')})")
            elif method == "Network.responseReceived" and p["response"]["status"] >= 400:
                self.failures.append(f"HTTP {p['response']['status']} for {p['response']['url']}")
            elif method == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                self.errors.append("uncaught: " + (d.get("exception", {}).get("description")
                                                   or d.get("text", "?")))
            elif method == "Log.entryAdded" and p["entry"]["level"] == "error":
                self.errors.append(f"console: {p['entry'].get('text')} {p['entry'].get('url', '')}")

"""A headless Chromium driven over the Chrome DevTools Protocol, with no dependency but Chromium.

Chromium started with `--remote-debugging-pipe` reads protocol commands from its file descriptor
3 and writes replies and events to its descriptor 4, each message JSON ended by a NUL byte. One
page (a target, attached in "flattened" mode: commands carry its sessionId) is enough for tests:
open a file, evaluate JavaScript, click where an element is, take a screenshot. Console errors,
uncaught exceptions and error log entries (a resource that failed to load) are collected.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    return next((found for found in map(shutil.which, BINARIES) if found), None)


class BrowserError(RuntimeError):
    pass


class Chromium:
    """One headless Chromium with one page of `width` x `height` CSS pixels."""

    def __init__(self, binary: str, width: int = 1400, height: int = 900, timeout: float = 20):
        self.timeout = timeout
        self.errors: list[str] = []  # console errors, exceptions, error log entries, as text
        self._profile = tempfile.TemporaryDirectory(prefix="graphdl-chromium-")
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []
        # The pipes' ends lie above 4, so that putting them at 3 and 4 in the child cannot
        # overwrite one with the other.
        to_read, to_write = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in os.pipe())
        from_read, from_write = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in os.pipe())

        def descriptors() -> None:  # in the child, before exec: dup2 leaves 3 and 4 inheritable
            os.dup2(to_read, 3)
            os.dup2(from_write, 4)

        arguments = [
            binary,
            "--headless=new",
            "--no-sandbox",  # root (as in CI) has no sandbox
            "--disable-gpu",
            "--remote-debugging-pipe",
            f"--user-data-dir={self._profile.name}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            "about:blank",
        ]
        self._process = subprocess.Popen(
            arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(3, 4), preexec_fn=descriptors
        )
        os.close(to_read)  # the child's ends, now the child has them
        os.close(from_write)
        self._write = to_write
        self._read = from_read
        try:
            target = self._send("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                self.send(f"{domain}.enable")
            self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        except Exception:
            self.close()
            raise

    # ---- the protocol ---------------------------------------------------------------------------

    def send(self, method: str, params: dict | None = None) -> dict:
        """A command to the page; its result."""
        return self._send(method, params, self._session)

    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self._write, data) :]
        while True:
            reply = self._receive(time.monotonic() + self.timeout)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            self._note(reply)

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise BrowserError("Chromium closed the connection")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def _note(self, event: dict) -> None:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            self.errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.errors.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.errors.append("log: " + params["entry"].get("text", ""))
        self._events.append(event)

    def wait_for(self, method: str) -> dict:
        """The next event `method` (one already received counts), noting the others."""
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == method:
                    return self._events.pop(i)
            self._note(self._receive(deadline))

    # ---- what tests do --------------------------------------------------------------------------

    def open(self, path: Path) -> None:
        """Load a file and wait until it has loaded; the errors collected start afresh."""
        self._events.clear()
        self.errors.clear()
        self.send("Page.navigate", {"url": path.resolve().as_uri()})
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-able values only)."""
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result["result"].get("value")

    def box(self, selector: str) -> tuple[float, float, float, float]:
        """Left, top, width and height of the first element `selector` finds, in CSS pixels of
        the window."""
        script = f"(() => {{ const r = document.querySelector({json.dumps(selector)}).getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }})()"
        return tuple(self.evaluate(script))

    def center(self, selector: str) -> tuple[float, float]:
        """The middle of the first element `selector` finds."""
        left, top, width, height = self.box(selector)
        return left + width / 2, top + height / 2

    def click(self, x: float, y: float) -> None:
        """A real click of the left mouse button: moved there, pressed, released."""
        self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            self.send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "buttons": 1, "clickCount": 1})

    def click_on(self, selector: str) -> None:
        self.click(*self.center(selector))

    def type(self, text: str) -> None:
        self.send("Input.insertText", {"text": text})

    def press(self, key: str) -> None:
        """A key such as "Enter" or "Escape", pressed and released."""
        codes = {"Enter": 13, "Escape": 27}
        for kind in ("keyDown", "keyUp"):
            params = {"type": kind, "key": key, "code": key, "windowsVirtualKeyCode": codes[key]}
            if kind == "keyDown" and key == "Enter":
                params["text"] = "\r"
            self.send("Input.dispatchKeyEvent", params)

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):  # it may go before it answers
            self._send("Browser.close")
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        for fd in (self._write, self._read):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._profile.cleanup()

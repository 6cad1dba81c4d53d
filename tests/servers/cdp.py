"""A tiny Chrome DevTools Protocol client for browser tests, on the `websockets` library.

No playwright or selenium: start a headless chromium with `launch_chromium`, connect a
`CDPClient` to the browser's WebSocket, open a page with `new_page`, and send commands.

    async with launch_chromium(tmp_path) as browser_url, CDPClient.connect(browser_url) as cdp:
        session = await cdp.new_page()
        await cdp.send("Page.navigate", {"url": url}, session_id=session)
        value = await cdp.evaluate("document.title", session_id=session)

Commands carry an id; the reader task resolves the future waiting for that id. Events go to
listeners registered with `on` (each gets the event's params and its sessionId, if any).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

_DEVTOOLS_LINE = re.compile(r"DevTools listening on (ws://\S+)")

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


class CDPError(RuntimeError):
    """The browser answered a command with an error, or the connection went away."""


def find_chromium() -> str | None:
    """The browser executable: $CHROMIUM if set, else the first known name on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


@contextlib.asynccontextmanager
async def launch_chromium(
    workdir: Path,
    *,
    executable: str | None = None,
    timeout: float = 20.0,
    extra_args: tuple[str, ...] = (),
) -> AsyncIterator[str]:
    """Run headless chromium with a throwaway profile; yield the browser's DevTools URL.

    stderr goes to `workdir/chromium.log` (a file, so a chatty browser never blocks on a full
    pipe); the DevTools line is read from there. The browser is terminated on exit.
    """
    exe = executable or find_chromium()
    if exe is None:
        raise FileNotFoundError("no chromium found (install Debian's `chromium` or set $CHROMIUM)")
    profile = workdir / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    log_path = workdir / "chromium.log"
    args = [
        exe,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-dev-shm-usage",  # containers often have a tiny /dev/shm
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--no-proxy-server",  # loopback tests must not go through an http_proxy from the environment
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        *extra_args,
        "about:blank",
    ]
    proc = _spawn(args, log_path)
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            match = _DEVTOOLS_LINE.search(await asyncio.to_thread(log_path.read_text, errors="replace"))
            if match:
                break
            if proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}:\n{_tail(log_path)}")
            if loop.time() > deadline:
                raise TimeoutError(f"chromium printed no DevTools URL within {timeout}s:\n{_tail(log_path)}")
            await asyncio.sleep(0.05)
        yield match.group(1)
    finally:
        await stop_process(proc)


def _spawn(args: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)


async def stop_process(proc: subprocess.Popen[Any], grace: float = 5.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL; always reaps the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            await asyncio.to_thread(proc.wait, grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    await asyncio.to_thread(proc.wait)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class CDPClient:
    """One DevTools WebSocket connection: numbered commands, matched responses, event listeners."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._listeners: dict[str, list[Callable[[dict[str, Any], str | None], None]]] = {}
        self._closed: BaseException | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    @contextlib.asynccontextmanager
    async def connect(cls, url: str, *, timeout: float = 10.0) -> AsyncIterator[CDPClient]:
        """A client on the browser's WebSocket `url`, closed on leaving."""
        # Screenshots and big evaluations exceed websockets' 1 MiB default frame limit.
        client = cls(await asyncio.wait_for(connect(url, max_size=None, ping_interval=None), timeout))
        try:
            yield client
        finally:
            await client.close()

    async def close(self) -> None:
        await self._ws.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    def on(self, method: str, callback: Callable[[dict[str, Any], str | None], None]) -> None:
        """Call `callback(params, session_id)` for every event named `method`."""
        self._listeners.setdefault(method, []).append(callback)

    async def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session_id: str | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Send one command and return its `result`; raise CDPError on an error response."""
        if self._closed is not None:
            raise CDPError(f"connection closed: {self._closed!r}")
        msg_id = next(self._ids)
        message: dict[str, Any] = {"id": msg_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[msg_id] = future
        try:
            await self._ws.send(json.dumps(message))
            response = await asyncio.wait_for(future, timeout)
        finally:
            self._pending.pop(msg_id, None)
        if "error" in response:
            error = response["error"]
            raise CDPError(f"{method}: {error.get('message')} ({error.get('code')}) {error.get('data', '')}".rstrip())
        result: dict[str, Any] = response.get("result", {})
        return result

    async def new_page(self, url: str = "about:blank") -> str:
        """Open a page target and attach to it (flat mode); return the session id for `send`."""
        target = await self.send("Target.createTarget", {"url": url})
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        session_id: str = attached["sessionId"]
        return session_id

    async def evaluate(self, expression: str, *, session_id: str | None = None, timeout: float = 10.0) -> Any:
        """Evaluate a JS expression in the page and return its value (JSON-able results only)."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session_id=session_id,
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            text = details.get("exception", {}).get("description") or details.get("text")
            raise CDPError(f"evaluate: {text}")
        return result.get("result", {}).get("value")

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                message = json.loads(raw)
                msg_id = message.get("id")
                if msg_id is not None:
                    future = self._pending.get(msg_id)
                    if future is not None and not future.done():
                        future.set_result(message)
                    continue
                for callback in self._listeners.get(message.get("method", ""), ()):
                    callback(message.get("params", {}), message.get("sessionId"))
        except ConnectionClosed as exc:
            self._closed = exc
        finally:
            if self._closed is None:
                self._closed = CDPError("reader stopped")
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(CDPError(f"connection closed: {self._closed!r}"))

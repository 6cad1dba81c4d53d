"""The restream dashboard (GET /) in a real headless chromium, driven over the DevTools protocol.

Starts `python -m servers.restream --port P --rate 5`, opens `/?symbols=...` and checks what a
user would see: a row per requested symbol with a numeric price that changes over time, a live
connection, the gateway's own figures from /status (clients >= 1), and no JavaScript errors.

Needs Debian's `chromium` (or $CHROMIUM); skipped when no browser is installed.
Set RSDEV_DASHBOARD_SCREENSHOT=/some/file.png to keep a screenshot of the page.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

try:
    from cdp import CDPClient, find_chromium, launch_chromium, stop_process
except ImportError:  # importlib import mode does not put the test's folder on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cdp import CDPClient, find_chromium, launch_chromium, stop_process

pytestmark = pytest.mark.skipif(find_chromium() is None, reason="chromium not installed (apt-get install chromium)")

SYMBOLS = ("AAPL", "MSFT", "BTC-USD")
STARTUP_TIMEOUT = 20.0
PAGE_TIMEOUT = 20.0

# One snapshot of what the page shows, taken inside the browser.
SNAPSHOT_JS = """
(() => {
  const rows = {};
  for (const tr of document.querySelectorAll('tr[data-symbol]')) {
    const cell = tr.querySelector('.price');
    rows[tr.dataset.symbol] = cell ? cell.textContent.trim() : null;
  }
  const stats = document.getElementById('gateway-stats');
  const clients = stats && stats.querySelector('[data-stat="clients.connected"]');
  const conn = document.getElementById('conn');
  return {
    rows,
    clients: clients ? clients.textContent.trim() : null,
    stats: stats ? stats.innerText : null,
    conn: conn ? conn.textContent.trim() : null,
    errors: Array.from(document.querySelectorAll('#error-list li'), (li) => li.textContent),
  };
})()
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _health_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=1.0) as response:
            status: int = response.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextlib.asynccontextmanager
async def run_restream(workdir: Path) -> AsyncIterator[str]:
    """Start restream on a free port, wait for GET /health = 200, yield its base URL."""
    port = _free_port()
    log_path = workdir / "restream.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "servers.restream", "--port", str(port), "--rate", "5"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STARTUP_TIMEOUT
        while await asyncio.to_thread(_health_status, base + "/health") != 200:
            if proc.poll() is not None:
                pytest.fail(f"restream exited with {proc.returncode}:\n{_tail(log_path)}")
            if loop.time() > deadline:
                pytest.fail(f"restream /health not 200 within {STARTUP_TIMEOUT}s:\n{_tail(log_path)}")
            await asyncio.sleep(0.1)
        yield base
    finally:
        await stop_process(proc, grace=5.0)


def _numeric(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _ready(snap: dict[str, Any]) -> bool:
    rows = snap.get("rows") or {}
    prices_ok = all(_numeric(rows.get(symbol)) is not None for symbol in SYMBOLS)
    clients = _numeric(snap.get("clients"))
    return prices_ok and clients is not None and clients >= 1


@pytest.mark.asyncio
async def test_dashboard_shows_live_quotes_and_gateway_stats(tmp_path: Path) -> None:
    async with run_restream(tmp_path) as base, launch_chromium(tmp_path) as browser_url:
        async with await CDPClient.connect(browser_url) as cdp:
            session = await cdp.new_page()
            exceptions: list[str] = []
            cdp.on(
                "Runtime.exceptionThrown",
                lambda params, _sid: exceptions.append(
                    params.get("exceptionDetails", {}).get("exception", {}).get("description")
                    or json.dumps(params.get("exceptionDetails", {}))
                ),
            )
            await cdp.send("Runtime.enable", session_id=session)
            await cdp.send("Page.enable", session_id=session)
            await cdp.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1000, "height": 800, "deviceScaleFactor": 1, "mobile": False},
                session_id=session,
            )
            url = f"{base}/?symbols={','.join(SYMBOLS)}"
            navigated = await cdp.send("Page.navigate", {"url": url}, session_id=session)
            assert "errorText" not in navigated, f"navigation to {url} failed: {navigated}"

            loop = asyncio.get_running_loop()
            deadline = loop.time() + PAGE_TIMEOUT
            snap: dict[str, Any] = {}
            while True:
                snap = await cdp.evaluate(SNAPSHOT_JS, session_id=session) or {}
                if _ready(snap):
                    break
                if loop.time() > deadline:
                    pytest.fail(
                        f"dashboard not ready within {PAGE_TIMEOUT}s; page shows {snap!r}; "
                        f"JS exceptions {exceptions!r}"
                    )
                await asyncio.sleep(0.2)

            assert snap["conn"] and snap["conn"].startswith("live"), snap
            assert not snap["errors"], f"gateway sent error frames: {snap['errors']}"
            first = dict(snap["rows"])

            # Live updates: some symbol's displayed price moves (restream runs at 5 quotes/s).
            changed: list[str] = []
            deadline = loop.time() + PAGE_TIMEOUT
            while not changed:
                if loop.time() > deadline:
                    pytest.fail(f"no price changed within {PAGE_TIMEOUT}s: first {first!r}, now {snap['rows']!r}")
                await asyncio.sleep(0.25)
                snap = await cdp.evaluate(SNAPSHOT_JS, session_id=session) or {}
                rows = snap.get("rows") or {}
                changed = [s for s in SYMBOLS if rows.get(s) != first[s] and _numeric(rows.get(s)) is not None]

            assert not exceptions, f"JavaScript exceptions on the page: {exceptions}"

            screenshot = os.environ.get("RSDEV_DASHBOARD_SCREENSHOT")
            if screenshot:
                shot = await cdp.send("Page.captureScreenshot", {"format": "png"}, session_id=session)
                Path(screenshot).write_bytes(base64.b64decode(shot["data"]))

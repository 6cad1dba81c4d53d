"""The restream dashboard (GET /) in a real headless chromium, driven over the DevTools protocol.

Starts `python -m servers.restream --port P --rate 5` (the `start_restream` fixture: waits for
GET /health = 200, SIGTERM at the end), opens `/?symbols=...` and checks what a user would see:
a row per requested symbol with a numeric price that changes over time, a live connection, the
gateway's own figures from /status (clients >= 1), and no JavaScript exceptions.

Needs Debian's `chromium` (scripts/test.sh installs it; or point $CHROMIUM at a browser); a
machine without one fails this test rather than skipping it: the set-up is what is broken.
RSDEV_DASHBOARD_SCREENSHOT=/some/file.png keeps a screenshot.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.servers.cdp import CDPClient, launch_chromium
from tests.servers.conftest import StartRestream

SYMBOLS = ("AAPL", "MSFT", "BTC-USD")
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
async def test_dashboard_shows_live_quotes_and_gateway_stats(tmp_path: Path, start_restream: StartRestream) -> None:
    restream = start_restream(None, "--rate", "5")
    async with launch_chromium(tmp_path) as browser_url, CDPClient.connect(browser_url) as cdp:
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
        url = restream.url(f"/?symbols={','.join(SYMBOLS)}")
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
                    f"JS exceptions {exceptions!r}; restream log:\n{restream.output()[-3000:]}"
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
            await asyncio.to_thread(Path(screenshot).write_bytes, base64.b64decode(shot["data"]))

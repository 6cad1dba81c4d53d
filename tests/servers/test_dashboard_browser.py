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
from collections.abc import Callable
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


async def open_dashboard(cdp: CDPClient, url: str, exceptions: list[str]) -> str:
    """A new page showing `url` (1000x800), its JavaScript exceptions collected into `exceptions`."""
    session = await cdp.new_page()
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
    navigated = await cdp.send("Page.navigate", {"url": url}, session_id=session)
    assert "errorText" not in navigated, f"navigation to {url} failed: {navigated}"
    return session


async def screenshot(cdp: CDPClient, session: str, path: Path) -> bytes:
    shot = await cdp.send("Page.captureScreenshot", {"format": "png"}, session_id=session)
    data = base64.b64decode(shot["data"])
    await asyncio.to_thread(path.write_bytes, data)
    return data


async def page_until(
    cdp: CDPClient,
    session: str,
    snapshot_js: str,
    ready: Callable[[dict[str, Any]], bool],
    context: Callable[[], str],
) -> dict[str, Any]:
    """The page's snapshot once `ready` says so (polled); fails after PAGE_TIMEOUT with what the
    page showed and `context()`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PAGE_TIMEOUT
    while True:
        snap: dict[str, Any] = await cdp.evaluate(snapshot_js, session_id=session) or {}
        if ready(snap):
            return snap
        if loop.time() > deadline:
            pytest.fail(f"dashboard not ready within {PAGE_TIMEOUT}s; page shows {snap!r}; {context()}")
        await asyncio.sleep(0.25)


@pytest.mark.asyncio
async def test_dashboard_shows_live_quotes_and_gateway_stats(tmp_path: Path, start_restream: StartRestream) -> None:
    restream = start_restream(None, "--rate", "5")
    async with launch_chromium(tmp_path) as browser_url, CDPClient.connect(browser_url) as cdp:
        exceptions: list[str] = []
        session = await open_dashboard(cdp, restream.url(f"/?symbols={','.join(SYMBOLS)}"), exceptions)

        snap = await page_until(
            cdp,
            session,
            SNAPSHOT_JS,
            _ready,
            lambda: f"JS exceptions {exceptions!r}; restream log:\n{restream.output()[-3000:]}",
        )

        assert snap["conn"] and snap["conn"].startswith("live"), snap
        assert not snap["errors"], f"gateway sent error frames: {snap['errors']}"
        first = dict(snap["rows"])

        # Live updates: some symbol's displayed price moves (restream runs at 5 quotes/s).
        loop = asyncio.get_running_loop()
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

        keep = os.environ.get("RSDEV_DASHBOARD_SCREENSHOT")
        if keep:
            await screenshot(cdp, session, Path(keep))


# Ink per chart: canvas pixels that are not transparent, and the rows marked.
CHARTS_JS = """
(() => {
  const ink = (cv) => {
    if (!cv) return 0;  // the page is still loading
    const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  };
  const drawn = (cv, key) => (cv && Number(cv.dataset[key]) > 0 ? ink(cv) : 0);  // data drawn, not only labels
  const sparks = {};
  for (const tr of document.querySelectorAll('tr[data-symbol]')) {
    sparks[tr.dataset.symbol] = drawn(tr.querySelector('canvas.spark'), 'points');
  }
  return {
    sparks,
    latency: drawn(document.getElementById('latency-chart'), 'total'),
    states: drawn(document.getElementById('state-chart'), 'spans'),
    stateLegend: (document.getElementById('state-legend') || {}).textContent || '',
    session: (document.getElementById('session') || {}).textContent || '',
    closed: Array.from(document.querySelectorAll('tr.closed'), (tr) => tr.dataset.symbol),
  };
})()
"""


def _charts_drawn(charts: dict[str, Any]) -> bool:
    sparks = charts.get("sparks") or {}
    return len(sparks) == len(MANY) and all(sparks.values()) and bool(charts["latency"] and charts["states"])


MANY = (*(f"S{i:02d}" for i in range(48)), "BTC-USD", "ETH-USD")  # 50 symbols
BUSY_LIMIT = 0.30


@pytest.mark.asyncio
async def test_charts_draw_and_fifty_symbols_at_10_per_second_keep_the_main_thread_under_30_percent(
    tmp_path: Path, start_restream: StartRestream
) -> None:
    """Sparklines, the latency histogram and the state timeline have ink (a screenshot is kept
    beside the test's files, RSDEV_DASHBOARD_SCREENSHOT too); the page's main thread, measured by
    the DevTools Performance domain (TaskDuration) over 10 s, is busy under 30 %."""
    restream = start_restream(None, "--rate", "10")
    async with launch_chromium(tmp_path) as browser_url, CDPClient.connect(browser_url) as cdp:
        exceptions: list[str] = []
        session = await open_dashboard(cdp, restream.url(f"/?symbols={','.join(MANY)}&minutes=1"), exceptions)
        charts = await page_until(cdp, session, CHARTS_JS, _charts_drawn, lambda: f"JS exceptions {exceptions!r}")
        assert "streaming" in charts["stateLegend"], charts
        assert charts["session"] == "session regular", charts  # BTC-USD trades now, whatever NYSE does
        shot = await screenshot(cdp, session, tmp_path / "dashboard.png")
        assert shot.startswith(b"\x89PNG") and len(shot) > 20_000  # charts and 50 rows, not a blank page
        keep = os.environ.get("RSDEV_DASHBOARD_SCREENSHOT")
        if keep:
            await asyncio.to_thread(Path(keep).write_bytes, shot)

        await cdp.send("Performance.enable", {"timeDomain": "timeTicks"}, session_id=session)

        async def task_seconds() -> tuple[float, float]:
            metrics = await cdp.send("Performance.getMetrics", session_id=session)
            values = {m["name"]: m["value"] for m in metrics["metrics"]}
            return values["Timestamp"], values["TaskDuration"]

        t0, busy0 = await task_seconds()
        await asyncio.sleep(10)
        t1, busy1 = await task_seconds()
        busy = (busy1 - busy0) / (t1 - t0)
        print(f"dashboard main thread busy: {busy:.1%} over {t1 - t0:.1f} s, 50 symbols at 10 quotes/s")
        assert busy < BUSY_LIMIT, f"main thread busy {busy:.1%} (limit {BUSY_LIMIT:.0%})"
        assert not exceptions, f"JavaScript exceptions on the page: {exceptions}"

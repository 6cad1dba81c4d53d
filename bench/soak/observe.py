"""What the soak watches while it runs: the webhook sink every alert goes to, the WebSocket
clients (lib_common.client, which reconnects by itself) and the status sampler. Each writes
JSON lines into the run directory as it goes, so a report can be made again from them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from stack import Pmdaemon, SoakError

from lib_common.client import Client


class JsonLines:
    """An append-only JSON lines file shared by threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._file = path.open("a", buffering=1)

    def write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class WebhookSink:
    """A tiny HTTP server taking every alert's JSON POST (lib_common.alerts' webhook body)."""

    def __init__(self, out: JsonLines) -> None:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"unparsed": raw.decode(errors="replace")}
                sink.out.write({"received": time.time(), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.out = out
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        self._thread = threading.Thread(target=self.server.serve_forever, name="webhook-sink", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Clients:
    """`count` restream clients on one event loop in a thread; every quote's receipt time recorded."""

    def __init__(self, url: str, symbols: list[str], count: int, out: JsonLines) -> None:
        self.url, self.symbols, self.count, self.out = url, symbols, count, out
        self.received: list[list[float]] = [[] for _ in range(count)]
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="soak-clients", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        tasks = [asyncio.create_task(self._client(i)) for i in range(self.count)]
        await self._stop.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _client(self, index: int) -> None:
        times = self.received[index]
        async with Client(self.url, symbols=self.symbols) as client:
            async for quote in client:
                now = time.time()
                times.append(now)
                if len(times) % 500 == 1:
                    self.out.write({"client": index, "at": now, "quotes": len(times), "symbol": quote.get("symbol")})


class Sampler:
    """`pmdaemon status --json` every `every_s` seconds, each sample a line of samples.jsonl."""

    def __init__(self, pmdaemon: Pmdaemon, every_s: float, out: JsonLines) -> None:
        self.pmdaemon, self.every_s, self.out = pmdaemon, every_s, out
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-sampler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(60)

    def sample(self) -> None:
        with contextlib.suppress(SoakError, OSError):
            services = self.pmdaemon.services()
            self.out.write(
                {
                    "at": time.time(),
                    "services": {
                        name: {k: s.get(k) for k in ("state", "pid", "rss_bytes", "health", "restarts", "uptime_s")}
                        for name, s in services.items()
                    },
                }
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

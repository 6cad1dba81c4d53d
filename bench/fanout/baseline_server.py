"""Baseline fan-out server: websockets' asyncio server and `broadcast()`, nothing else.

Same CLI and feed as `python -m servers.restream` in synthetic mode (--host --port --symbols
--rate), same client protocol (subscribe / unsubscribe / ping, quote frames), so the harness
drives both the same way. Each quote is encoded once (`Frame.quote`) and handed to
`broadcast()`, which writes it to every subscribed connection with no backpressure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from collections.abc import Callable, Iterable

from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from lib_common.clock import LoopClock
from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.ingestors.synthetic import SyntheticFeed


class Subscriptions:
    """Which connections want which symbol."""

    def __init__(self) -> None:
        self._by_symbol: dict[str, set[ServerConnection]] = {}

    def add(self, ws: ServerConnection, symbols: Iterable[str]) -> None:
        for symbol in symbols:
            self._by_symbol.setdefault(symbol, set()).add(ws)

    def remove(self, ws: ServerConnection, symbols: Iterable[str] | None = None) -> None:
        for symbol in list(self._by_symbol) if symbols is None else symbols:
            self._by_symbol.get(symbol, set()).discard(ws)

    def of(self, symbol: str) -> set[ServerConnection]:
        return self._by_symbol.get(symbol, set())


def _reply(op: object, symbols: list[str]) -> str:
    if op == "subscribe":
        return json.dumps({"type": "subscribed", "symbols": symbols})
    if op == "unsubscribe":
        return json.dumps({"type": "unsubscribed", "symbols": symbols})
    if op == "ping":
        return json.dumps({"type": "pong"})
    return json.dumps({"type": "error", "code": "bad_request", "message": f"unknown op {op!r}"})


async def _handle(ws: ServerConnection, subs: Subscriptions) -> None:
    try:
        async for message in ws:
            try:
                body = json.loads(message)
                op = body.get("op")
                symbols = [str(s) for s in body.get("symbols", [])]
            except (ValueError, AttributeError, TypeError):
                await ws.send(json.dumps({"type": "error", "code": "bad_json", "message": "bad message"}))
                continue
            if op == "subscribe":
                subs.add(ws, symbols)
            elif op == "unsubscribe":
                subs.remove(ws, symbols)
            await ws.send(_reply(op, symbols))
    except ConnectionClosed:
        pass
    finally:
        subs.remove(ws)


def _health(ws: ServerConnection, request: Request) -> Response | None:
    if request.path.split("?", 1)[0] == "/health":
        return Response(200, "OK", Headers([("Content-Type", "text/plain")]), b"ok\n")
    return None


def _sink(subs: Subscriptions) -> Callable[[list[Quote]], None]:
    def sink(quotes: list[Quote]) -> None:
        for quote in quotes:
            clients = subs.of(quote.symbol)
            if clients:
                frame = Frame.quote(quote, ts_library_out=time.time_ns() // 1000)
                broadcast(clients, frame.payload.decode())

    return sink


async def serve_forever(host: str, port: int, symbols: list[str], rate: float) -> None:
    subs = Subscriptions()
    feed = SyntheticFeed(_sink(subs), clock=LoopClock(), rate=rate, symbols=symbols)
    feed.subscribe(symbols)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)

    async def handler(ws: ServerConnection) -> None:
        await _handle(ws, subs)

    async with serve(handler, host, port, compression=None, process_request=_health):
        feed_task = asyncio.create_task(feed.run())
        await stop
        feed_task.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--symbols", required=True, help="comma-separated symbols to quote")
    parser.add_argument("--rate", type=float, default=2.0, help="quotes/s per symbol")
    args = parser.parse_args()
    symbols = [s for s in args.symbols.split(",") if s]
    asyncio.run(serve_forever(args.host, args.port, symbols, args.rate))


if __name__ == "__main__":
    main()

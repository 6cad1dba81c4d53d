"""restream end to end: a real process, real uvicorn, real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.servers.conftest import RestreamProcess, StartRestream, until

pytestmark = pytest.mark.asyncio


async def recv_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that comes as the
    # message does (gh-86296), and a collecting task cancelled that way reads on for ever.
    async with asyncio.timeout(timeout):
        message = await ws.recv()
    body: dict[str, Any] = json.loads(message)
    return body


async def recv_until(ws: ClientConnection, kind: str, timeout: float = 5.0) -> dict[str, Any]:
    async with asyncio.timeout(timeout):
        while True:
            body = await recv_json(ws)
            if body["type"] == kind:
                return body


def upstream_of(server: RestreamProcess) -> dict[str, Any]:
    upstream: dict[str, Any] = server.status()["upstream"]  # type: ignore[assignment]
    return upstream


async def subscribe(ws: ClientConnection, *symbols: str) -> None:
    await ws.send(json.dumps({"op": "subscribe", "symbols": list(symbols)}))
    assert await recv_until(ws, "subscribed") == {"type": "subscribed", "symbols": list(symbols)}


async def test_subscribe_delivers_quotes_with_ordered_timestamps(start_restream: StartRestream) -> None:
    server = start_restream(None, "--rate", "20")
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL", "BTC-USD")
        seen: dict[str, list[int]] = {"AAPL": [], "BTC-USD": []}
        while min(len(v) for v in seen.values()) < 5:
            quote = await recv_until(ws, "quote")
            assert quote["ts_upstream"] <= quote["ts_library_in"] <= quote["ts_library_out"]
            assert isinstance(quote["price"], float) and quote["currency"] == "USD"
            seen[quote["symbol"]].append(quote["ts_library_out"])
        for stamps in seen.values():
            assert stamps == sorted(stamps)


async def test_unsubscribe_stops_quotes(start_restream: StartRestream) -> None:
    server = start_restream(None, "--rate", "50")
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL", "MSFT")
        await recv_until(ws, "quote")
        await ws.send(json.dumps({"op": "unsubscribe", "symbols": ["AAPL"]}))
        assert await recv_until(ws, "unsubscribed") == {"type": "unsubscribed", "symbols": ["AAPL"]}
        symbols = {(await recv_until(ws, "quote"))["symbol"] for _ in range(20)}
        assert symbols == {"MSFT"}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("this is not json", "bad_json"),
        ("[" * 60_000, "bad_json"),  # issue 13 #6: once RecursionError, close 1006, a traceback each
        ('{"op": "ping", "x": NaN}', "bad_json"),
        ('{"op": "teleport"}', "unknown_op"),
        (json.dumps({"op": "ping", "pad": "x" * 70_000}), "too_large"),
        (json.dumps({"op": "subscribe", "symbols": [f"S{i}" for i in range(101)]}), "too_many_symbols"),
        (b"\x00binary", "bad_message"),
    ],
)
async def test_bad_input_gets_error_frame_and_connection_stays_up(
    start_restream: StartRestream, message: str | bytes, code: str
) -> None:
    server = start_restream()
    async with connect(server.url("/ws", ws=True)) as ws:
        await ws.send(message)
        error = await recv_until(ws, "error")
        assert error["code"] == code and error["message"]
        await ws.send(json.dumps({"op": "ping"}))
        assert await recv_until(ws, "pong") == {"type": "pong"}


async def test_new_subscriber_gets_latest_quote_at_once(start_restream: StartRestream) -> None:
    server = start_restream(None, "--rate", "0.2")  # a quote every 5 s
    async with connect(server.url("/ws", ws=True)) as first:
        await subscribe(first, "AAPL")
        await recv_until(first, "quote", timeout=8)
        async with connect(server.url("/ws", ws=True)) as second:
            await subscribe(second, "AAPL")
            quote = await recv_until(second, "quote", timeout=1)  # the snapshot, not the next tick
            assert quote["symbol"] == "AAPL"


TENANTS = {
    "tenants": [
        {"name": "desk", "token": "s3cret", "priority": 10, "max_connections": 2},
        {"name": "crypto", "token": "c0in", "symbols": ["*-USD"]},
    ]
}


async def test_bad_token_is_refused_before_upgrade(start_restream: StartRestream) -> None:
    server = start_restream(TENANTS)
    for url in (server.url("/ws", ws=True), server.url("/ws?token=wrong", ws=True)):
        with pytest.raises(InvalidStatus) as info:
            async with connect(url):
                pass
        assert info.value.response.status_code == 401
    async with connect(server.url("/ws", ws=True), additional_headers={"Authorization": "Bearer s3cret"}) as ws:
        await ws.send(json.dumps({"op": "ping"}))
        assert await recv_json(ws) == {"type": "pong"}
    async with connect(server.url("/ws?token=s3cret", ws=True)) as ws:
        await ws.send(json.dumps({"op": "ping"}))
        assert await recv_json(ws) == {"type": "pong"}


async def test_tenant_connection_limit_and_symbol_rules(start_restream: StartRestream) -> None:
    server = start_restream(TENANTS)
    url = server.url("/ws?token=s3cret", ws=True)
    async with connect(url), connect(url):
        with pytest.raises(InvalidStatus) as info:
            async with connect(url):
                pass
        assert info.value.response.status_code == 429
    # Leaving frees the tenant's places: a client that left counts no more.
    await until(lambda: server.status()["clients"] == {"connected": 0, "by_tenant": {"desk": 0}})
    async with connect(url), connect(url):
        pass
    async with connect(server.url("/ws?token=c0in", ws=True)) as ws:
        await ws.send(json.dumps({"op": "subscribe", "symbols": ["AAPL", "BTC-USD"]}))
        error = await recv_until(ws, "error")
        assert error["code"] == "symbol_refused" and "AAPL" in error["message"]
        assert await recv_until(ws, "subscribed") == {"type": "subscribed", "symbols": ["BTC-USD"]}


async def test_one_bad_symbol_does_not_cost_the_others(start_restream: StartRestream) -> None:
    server = start_restream()
    async with connect(server.url("/ws", ws=True)) as ws:
        await ws.send(json.dumps({"op": "subscribe", "symbols": ["AAPL", "not a symbol!"]}))
        error = await recv_until(ws, "error")
        assert error["code"] == "bad_symbols" and "not a symbol!" in error["message"]
        assert await recv_until(ws, "subscribed") == {"type": "subscribed", "symbols": ["AAPL"]}
        assert (await recv_until(ws, "quote"))["symbol"] == "AAPL"


async def test_fixed_symbols_refuse_others(start_restream: StartRestream) -> None:
    server = start_restream(None, "--symbols", "AAPL,MSFT")
    async with connect(server.url("/ws", ws=True)) as ws:
        await ws.send(json.dumps({"op": "subscribe", "symbols": ["TSLA"]}))
        error = await recv_until(ws, "error")
        assert error["code"] == "symbol_refused" and "TSLA" in error["message"]


async def test_flood_is_closed_with_1008(start_restream: StartRestream) -> None:
    server = start_restream({"limits": {"messages_per_second": 1, "burst": 5}})
    async with connect(server.url("/ws", ws=True)) as ws:
        for _ in range(20):
            await ws.send(json.dumps({"op": "ping"}))
        with pytest.raises(ConnectionClosed) as info:
            async with asyncio.timeout(5):
                while True:
                    await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008


async def test_linger_resubscribe_causes_no_upstream_unsubscribe(start_restream: StartRestream) -> None:
    server = start_restream({"registry": {"linger_s": 30}})
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL")
    await until(
        lambda: server.status()["symbols"] == {"active": 0, "lingering": 1, "lingering_released_early": 0, "list": []}
    )
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        await recv_until(ws, "quote")
    upstream = upstream_of(server)
    assert upstream["subscribes"] == 1 and upstream["unsubscribes"] == 0


async def test_linger_expiry_unsubscribes_upstream(start_restream: StartRestream) -> None:
    server = start_restream({"registry": {"linger_s": 0.2}})
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        assert upstream_of(server)["unsubscribes"] == 0
    await until(lambda: upstream_of(server)["unsubscribes"] == 1)
    assert server.status()["symbols"] == {"active": 0, "lingering": 0, "lingering_released_early": 0, "list": []}


async def test_sigterm_closes_clients_with_1001(start_restream: StartRestream) -> None:
    server = start_restream()
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        server.proc.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as info:
            async with asyncio.timeout(10):
                while True:
                    await ws.recv()
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001
    assert server.proc.wait(10) == 0


async def test_health_status_metrics(start_restream: StartRestream) -> None:
    server = start_restream()
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        await recv_until(ws, "quote")
        health = server.get("/health")
        assert health.status_code == 200 and health.json()["upstream"]["state"] == "streaming"
        status = server.status()
        assert status["clients"] == {"connected": 1, "by_tenant": {"anonymous": 1}}
        metrics = server.get("/metrics")
        assert metrics.headers["content-type"].startswith("text/plain")
        lines = dict(line.rsplit(" ", 1) for line in metrics.text.splitlines() if not line.startswith("#"))
        assert lines["restream_clients"] == "1"
        assert int(lines["restream_frames_out_total"]) >= 1
        assert 'restream_dispatch_latency_seconds_bucket{le="+Inf"}' in lines

"""Slow consumers and WSS, end to end."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from tests.servers.conftest import RestreamProcess, StartRestream, raw_upgrade
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

pytestmark = pytest.mark.asyncio

SYMBOLS = [f"S{i:02d}" for i in range(20)]


def raw_websocket(server: RestreamProcess) -> socket.socket:
    """A raw socket through the WebSocket handshake on /ws, with a tiny receive buffer (it fills
    at once for a client that never reads)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    assert raw_upgrade(sock, "/ws", f"127.0.0.1:{server.port}").startswith(b"HTTP/1.1 101")
    return sock


def stalled_client(server: RestreamProcess, symbols: list[str]) -> socket.socket:
    """Handshakes, subscribes, then never reads."""
    sock = raw_websocket(server)
    payload = json.dumps({"op": "subscribe", "symbols": symbols}).encode()
    sock.sendall(Frame(Opcode.TEXT, payload).serialize(mask=True))
    return sock


def frames(status: dict[str, Any]) -> dict[str, int]:
    body: dict[str, int] = status["frames"]
    return body


async def test_stalled_client_is_conflated_then_evicted_while_healthy_one_keeps_receiving(
    start_restream: StartRestream,
) -> None:
    server = start_restream(
        {"memory": {"client_queue": 64, "stall_timeout_s": 2}},
        "--symbols",
        ",".join(SYMBOLS),
        "--rate",
        "100",
    )
    async with connect(server.url("/ws", ws=True)) as healthy:
        await subscribe(healthy, *SYMBOLS)
        stalled = stalled_client(server, SYMBOLS)
        try:
            received = 0
            async with asyncio.timeout(20):
                while frames(server.status())["evicted_clients"] == 0:
                    for _ in range(200):
                        await recv_until(healthy, "quote")
                        received += 1
            status = server.status()
            assert frames(status)["conflated"] > 0, "the stalled client was conflated before eviction"
            assert status["clients"]["connected"] == 1  # type: ignore[index]
            assert status["memory_guard"]["used_bytes"] == 0  # type: ignore[index]
            # The healthy client carries on, current and in order.
            last: dict[str, int] = {}
            for _ in range(500):
                quote = await recv_until(healthy, "quote")
                assert quote["ts_library_out"] >= last.get(quote["symbol"], 0)
                last[quote["symbol"]] = quote["ts_library_out"]
            assert received > 0
        finally:
            stalled.close()


async def test_wss_with_generated_certificate(start_restream: StartRestream, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(tmp_path / "server.key")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "server.pem")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    client_ctx = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    server = start_restream(
        {"tls": {"cert": str(tmp_path / "server.pem"), "key": str(tmp_path / "server.key")}},
        scheme="https",
        verify=client_ctx,
    )
    async with connect(server.url("/ws", ws=True), ssl=client_ctx) as ws:
        await subscribe(ws, "AAPL")
        quote = await recv_until(ws, "quote")
        assert quote["symbol"] == "AAPL"
    # Plain ws:// to a TLS port does not get through.
    with pytest.raises(Exception):  # noqa: B017, PT011 - the handshake fails in one of several ways
        async with connect(f"ws://127.0.0.1:{server.port}/ws", open_timeout=3):
            pass

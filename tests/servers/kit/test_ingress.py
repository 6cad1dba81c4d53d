"""GatedH11Protocol in a real uvicorn server: what it relies on of uvicorn's h11 protocol, the
gate's count through a WebSocket's life, and the request head's deadline on a kept-alive
connection."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from websockets.asyncio.client import connect

from servers.kit.connections import ConnectionGate
from servers.kit.egress import GatewayProtocol
from servers.kit.ingress import OVERRIDDEN, RELIED_ON, GatedH11Protocol
from tests.servers.kit.live import uvicorn_port

made: list[GatedH11Protocol] = []


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await receive()
    await send({"type": "websocket.accept"})
    while (await receive())["type"] != "websocket.disconnect":
        pass


class Recording(GatedH11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        made.append(self)
        super().connection_made(transport)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[int, ConnectionGate]]:
    gate = ConnectionGate(per_ip=10, total=10, handshake_timeout_s=0.3)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=Recording.configured(gate), ws=GatewayProtocol, lifespan="off"
    )
    async with uvicorn_port(config) as port:
        yield port, gate


async def until_closed(reader: asyncio.StreamReader, timeout: float = 3.0) -> bytes:
    async with asyncio.timeout(timeout):
        return await reader.read()


@pytest.mark.asyncio
async def test_the_attributes_it_relies_on_are_there(server: tuple[int, ConnectionGate]) -> None:
    port, _gate = server
    made.clear()
    _reader, writer = await asyncio.open_connection("127.0.0.1", port)
    async with asyncio.timeout(5):
        while not made:
            await asyncio.sleep(0.01)
    for name, expected in RELIED_ON.items():
        value = getattr(made[0], name, None)
        assert isinstance(value, expected), f"uvicorn's H11Protocol.{name} is not a {expected} any more"
    writer.close()


def test_the_methods_it_overrides_exist_on_the_base() -> None:
    for name in OVERRIDDEN:
        base = getattr(H11Protocol, name, None)
        assert callable(base), f"uvicorn's H11Protocol has no method {name}() to override"
        assert list(inspect.signature(base).parameters) == list(
            inspect.signature(getattr(GatedH11Protocol, name)).parameters
        ), f"uvicorn's H11Protocol.{name} changed its signature"
    ours = {name for name, value in vars(GatedH11Protocol).items() if inspect.isfunction(value)}
    assert {name for name in ours if hasattr(H11Protocol, name)} == {*OVERRIDDEN, "__init__"}


@pytest.mark.asyncio
async def test_a_websocket_holds_its_place_in_the_gate_until_it_closes(server: tuple[int, ConnectionGate]) -> None:
    port, gate = server
    async with connect(f"ws://127.0.0.1:{port}/") as ws:
        await asyncio.sleep(0.5)  # past the head's deadline: the upgrade stopped it
        await ws.ping()
        assert gate.open == 1
    async with asyncio.timeout(5):
        while gate.open:
            await asyncio.sleep(0.01)
    assert gate.handshake_timeouts == 0


@pytest.mark.asyncio
async def test_a_kept_alive_connection_has_a_deadline_for_each_request_head(server: tuple[int, ConnectionGate]) -> None:
    port, gate = server
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await reader.readuntil(b"ok")).startswith(b"HTTP/1.1 200")
    writer.write(b"GET / HTTP/1.1\r\n")  # the second head never completes
    assert await until_closed(reader) == b""
    assert gate.handshake_timeouts == 1 and gate.open == 0
    writer.close()

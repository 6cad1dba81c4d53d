"""GatewayProtocol against the uvicorn installed: every non-public attribute it relies on, on a
protocol a real uvicorn server made, and every method it overrides, on the base class."""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.asyncio.client import connect

from servers.kit.egress import EXTENSION, OVERRIDDEN, QUEUE_CALLS, RELIED_ON, GatewayProtocol
from servers.kit.inbox import Inbox
from tests.servers.kit.live import uvicorn_port


@pytest_asyncio.fixture
async def live_protocol() -> AsyncIterator[GatewayProtocol]:
    """The GatewayProtocol of one connection to a real uvicorn server, after the handshake."""
    made: asyncio.Future[GatewayProtocol] = asyncio.get_running_loop().create_future()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        made.set_result(scope["extensions"][EXTENSION])
        while (await receive())["type"] != "websocket.disconnect":
            pass

    config = uvicorn.Config(app, host="127.0.0.1", port=0, ws=GatewayProtocol, lifespan="off", log_level="warning")
    async with uvicorn_port(config) as port, connect(f"ws://127.0.0.1:{port}/"):
        async with asyncio.timeout(10):
            yield await made


@pytest.mark.asyncio
async def test_the_attributes_gateway_protocol_relies_on_are_there(live_protocol: GatewayProtocol) -> None:
    for name, expected in RELIED_ON.items():
        assert hasattr(live_protocol, name), f"uvicorn's WebSocketsSansIOProtocol has no attribute {name!r} any more"
        value = getattr(live_protocol, name)
        assert isinstance(value, expected), (
            f"uvicorn's WebSocketsSansIOProtocol.{name} is a {type(value).__name__}, GatewayProtocol expects {expected}"
        )
    for name in ("send_close", "data_to_send"):
        assert callable(getattr(live_protocol.conn, name, None)), f"websockets' ServerProtocol has no {name}()"


def test_the_methods_gateway_protocol_overrides_exist_on_the_base() -> None:
    for name in OVERRIDDEN:
        base = getattr(WebSocketsSansIOProtocol, name, None)
        assert callable(base), f"uvicorn's WebSocketsSansIOProtocol has no method {name}() to override"
        ours = inspect.signature(getattr(GatewayProtocol, name))
        assert list(inspect.signature(base).parameters) == list(ours.parameters), (
            f"uvicorn's WebSocketsSansIOProtocol.{name}{inspect.signature(base)} no longer matches "
            f"GatewayProtocol.{name}{ours}"
        )


def test_every_override_is_listed() -> None:
    kit = GatewayProtocol.__mro__[: GatewayProtocol.__mro__.index(WebSocketsSansIOProtocol)]  # with ExposedProtocol
    ours = {name for cls in kit for name, value in vars(cls).items() if inspect.isfunction(value)}
    inherited = {name for name in ours if hasattr(WebSocketsSansIOProtocol, name)}
    assert inherited == set(OVERRIDDEN)


@pytest.mark.asyncio
async def test_the_handshake_request_and_response_are_let_go_once_accepted() -> None:
    """They stay referenced for the connection's life otherwise (headers and all, per client):
    the response is dropped, the request's headers emptied; the app still has the headers in
    its scope and still sends through uvicorn's ASGI path after the accept."""
    kept: asyncio.Future[tuple[int, bool]] = asyncio.get_running_loop().create_future()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()  # websocket.connect
        protocol = scope["extensions"][EXTENSION]
        assert len(protocol.request.headers) > 3 and hasattr(protocol, "response")
        await send({"type": "websocket.accept"})
        assert any(name == b"sec-websocket-key" for name, _ in scope["headers"])
        kept.set_result((len(protocol.request.headers), hasattr(protocol, "response")))
        await send({"type": "websocket.send", "text": "after the accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass

    config = uvicorn.Config(app, host="127.0.0.1", port=0, ws=GatewayProtocol, lifespan="off", log_level="warning")
    async with uvicorn_port(config) as port, connect(f"ws://127.0.0.1:{port}/") as client:
        async with asyncio.timeout(10):
            assert await client.recv() == "after the accept"
            assert await kept == (0, False)


def test_uvicorn_calls_only_what_an_inbox_offers_on_its_queue() -> None:
    """GatewayProtocol's `queue` is an Inbox, not the asyncio.Queue uvicorn made: every method
    uvicorn's source calls on it must be one an Inbox has."""
    called = set(re.findall(r"self\.queue\.(\w+)", inspect.getsource(WebSocketsSansIOProtocol)))
    assert called, "uvicorn's WebSocketsSansIOProtocol no longer uses self.queue"
    assert called <= QUEUE_CALLS, f"uvicorn calls {sorted(called - QUEUE_CALLS)} on its queue"
    assert all(callable(getattr(Inbox, name, None)) for name in QUEUE_CALLS)

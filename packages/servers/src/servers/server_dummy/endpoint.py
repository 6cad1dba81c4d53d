"""The streamer endpoint on `/` (and `/?version=2`): a connection's frames in, to the hub."""

from __future__ import annotations

from starlette.websockets import WebSocket

from servers.server_dummy.hub import Hub
from servers.server_dummy.transport import EXTENSION, DummyProtocol


async def streamer(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    egress = websocket.scope.get("extensions", {}).get(EXTENSION)
    if not isinstance(egress, DummyProtocol):
        raise RuntimeError(
            f"server_dummy needs uvicorn with ws={DummyProtocol.__name__}; the {EXTENSION} scope extension is missing"
        )
    await websocket.accept()
    connection = hub.join(egress)
    if connection is None:
        return
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect" or not hub.receive(connection, message.get("text")):
                return
    finally:
        hub.leave(connection)

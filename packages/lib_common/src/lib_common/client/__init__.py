"""The Python client of restream and redis2ws: reconnects, resubscribes, de-duplicates.

    from lib_common.client import Client
    async with Client("ws://127.0.0.1:8765/ws", symbols=["AAPL"]) as client:
        async for quote in client:
            ...

Modules: policy (every decision, plain code), subscriptions (what is wanted, per server
dialect), liveness (silent-connection detection), events (what the user is told), connection
(`Client`, the websockets adapter), sync (`stream()`, the plain iterator). docs/client.md.
"""

from lib_common.client.connection import Client
from lib_common.client.events import ClientEvent, ServerError, StateChanged, UpstreamChanged
from lib_common.client.sync import Stream, stream
from lib_common.core.reconnect import LinkState
from lib_common.errors import ClientRefused

__all__ = [
    "Client",
    "ClientEvent",
    "ClientRefused",
    "LinkState",
    "ServerError",
    "StateChanged",
    "Stream",
    "UpstreamChanged",
    "stream",
]

"""server_yahoo's ASGI app: the Yahoo-protocol WebSocket on `/`, and the kit's figure routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from servers.kit import app as kit
from servers.kit.session import serve_client
from servers.server_yahoo.config import ProxyConfig
from servers.server_yahoo.endpoint import handle
from servers.server_yahoo.proxy import Proxy


def create_app(config: ProxyConfig) -> Starlette:
    proxy = Proxy(config)

    async def yahoo_endpoint(websocket: WebSocket) -> None:
        # Yahoo's protocol has no error frame: a bad message, binary included, is only counted.
        await serve_client(
            websocket,
            proxy,
            lambda tenant, session, text: handle(proxy, session, text),
            on_binary=lambda session: handle(proxy, session, None),
        )

    return kit.create_app(proxy, WebSocketRoute("/", yahoo_endpoint), health=proxy.health, http=config.http)

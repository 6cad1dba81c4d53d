"""The ASGI side of servers.kit.http_policy: a middleware that refuses a request for another
host (400) or from a foreign origin (403) before any route sees it, for HTTP and for WebSocket
upgrades alike, and the figures token on the views that ask for it (401)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from servers.kit.http_policy import HttpPolicy

# Methods a page on another site may make a browser send without asking (or with a preflight
# we never answer): an Origin that is not allowed is refused on these.
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

View = Callable[[Request], Awaitable[Response]]


def request_token(connection: HTTPConnection) -> str | None:
    """`Authorization: Bearer TOKEN`, else `?token=TOKEN` (what browsers can send)."""
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return connection.query_params.get("token")


async def deny(scope: Scope, receive: Receive, send: Send, status: int, text: str) -> None:
    """Answer `status` with `text`: an HTTP response, or for a WebSocket the same response
    instead of the upgrade."""
    response = PlainTextResponse(text, status_code=status)
    if scope["type"] == "websocket":
        await WebSocket(scope, receive, send).send_denial_response(response)
    else:
        await response(scope, receive, send)


class HttpGuard:
    """Host and Origin checks in front of an app (servers.kit.http_policy says which pass)."""

    def __init__(self, app: ASGIApp, policy: HttpPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            refusal = self.refusal(scope)
            if refusal is not None:
                await deny(scope, receive, send, *refusal)
                return
        await self.app(scope, receive, send)

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        headers = Headers(scope=scope)
        host, server = headers.get("host"), scope.get("server")
        if not self.policy.host_allowed(host, server):
            return 400, "invalid Host header: not a name of this server (http.allowed_hosts)\n"
        origin = headers.get("origin")
        checked = scope["type"] == "websocket" or scope.get("method") in UNSAFE_METHODS
        if origin is not None and checked and not self.policy.origin_allowed(origin, host, server):
            return 403, "origin not allowed (http.allowed_origins)\n"
        return None


def figures_view(policy: HttpPolicy, view: View) -> View:
    """`view` behind the figures token (when the policy has one): 401 without it."""
    if policy.figures_token is None:
        return view

    async def guarded(request: Request) -> Response:
        if not policy.figures_allowed(request_token(request)):
            return PlainTextResponse(
                "this server's figures need its token (http.figures_token)\n",
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return await view(request)

    return guarded

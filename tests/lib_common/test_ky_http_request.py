"""KyHttp.request: methods with JSON bodies and the retry rules that respect idempotency, against
a real HTTP server on loopback (and, for the failures a server cannot stage, a mock transport)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from lib_common.clock import ManualClock
from lib_common.core.backoff import Backoff
from lib_common.ky_http import IDEMPOTENT_METHODS, ApiResponse, KyHttp, may_retry
from tests.lib_common.test_ky_http import FakeSleep, client, replies


@dataclass
class Seen:
    method: str
    path: str
    content_type: str | None
    body: bytes


@dataclass
class Script:
    """What the local server answers: `failures` 503s on each path first, then the echo."""

    failures: dict[str, int] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def make_handler(script: Script) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with script.lock:
                script.seen.append(Seen(self.command, self.path, self.headers.get("Content-Type"), body))
                left = script.failures.get(self.path, 0)
                script.failures[self.path] = max(0, left - 1)
            if left:
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.command == "DELETE":
                self.send_response(204)
                self.end_headers()
            else:
                reply = json.dumps({"method": self.command, "got": json.loads(body) if body else None}).encode()
                self.send_response(201 if self.command == "POST" else 200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = answer

    return Handler


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


async def sent(method: str, url: str, *, retries: int = 3, **options: Any) -> tuple[ApiResponse, list[float]]:
    """One `request` from a fresh client (no jitter, a fake sleep on a manual clock): its response
    and the delays it slept."""
    clock = ManualClock()
    sleep = FakeSleep(clock)
    async with KyHttp(
        sleep=sleep, clock=clock, backoff=lambda: Backoff(rand=lambda: 0.0), retries=retries, timeout_s=5
    ) as http:
        return await http.request(method, url, **options), sleep.delays


@pytest.mark.asyncio
async def test_post_sends_json_and_reads_the_json_answer(server: tuple[str, Script]) -> None:
    url, script = server
    response, _ = await sent("post", f"{url}/orders", json={"symbol": "AAPL", "qty": 5, "note": "é"})
    assert response.ok and response.status == 201 and response.attempts == 1
    assert response.data == {"method": "POST", "got": {"symbol": "AAPL", "qty": 5, "note": "é"}}
    assert script.seen[0].content_type == "application/json"
    assert script.seen[0].body == '{"symbol":"AAPL","qty":5,"note":"é"}'.encode()


@pytest.mark.asyncio
async def test_delete_answered_with_no_content_is_a_success(server: tuple[str, Script]) -> None:
    url, script = server
    response, _ = await sent("DELETE", f"{url}/orders/1")
    assert response.ok and response.status == 204 and response.data is None
    assert script.seen[0].body == b"" and script.seen[0].content_type is None


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_idempotent_methods_are_retried_after_a_503(server: tuple[str, Script], method: str) -> None:
    url, script = server
    script.failures["/x"] = 2
    response, delays = await sent(method, f"{url}/x", json={"v": 1} if method == "PUT" else None)
    assert response.ok and response.attempts == 3 and delays == [0.5, 1.0]
    assert [s.method for s in script.seen] == [method] * 3


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_a_post_answered_with_a_503_is_not_sent_again(server: tuple[str, Script], method: str) -> None:
    url, script = server
    script.failures["/orders"] = 1
    response, delays = await sent(method, f"{url}/orders", json={"symbol": "AAPL"})
    assert not response.ok and response.status == 503 and response.attempts == 1 and delays == []
    assert response.error == f"HTTP 503 from 127.0.0.1/orders (not retried: {method} is not idempotent)"
    assert len(script.seen) == 1  # the server may have acted on it: it is never sent twice


@pytest.mark.asyncio
async def test_a_post_the_caller_declares_idempotent_is_retried(server: tuple[str, Script]) -> None:
    url, script = server
    script.failures["/orders"] = 1
    response, delays = await sent(
        "POST", f"{url}/orders", json={"id": "k-1"}, headers={"Idempotency-Key": "k-1"}, idempotent=True
    )
    assert response.ok and response.attempts == 2 and delays == [0.5] and len(script.seen) == 2


@pytest.mark.asyncio
async def test_a_post_to_a_refused_port_is_retried_since_it_never_left() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed when the block ends: nothing listens there
    response, delays = await sent("POST", f"http://127.0.0.1:{port}/orders", json={}, retries=2)
    assert not response.ok and response.status is None and response.attempts == 3 and len(delays) == 2
    assert response.error is not None and response.error.startswith(
        "connection to 127.0.0.1/orders failed: ConnectError"
    )


@pytest.mark.asyncio
async def test_get_json_still_refuses_an_empty_body() -> None:
    http, _ = client(replies(httpx.Response(200)))
    async with http:
        response = await http.get_json("https://api.example/x")
    assert not response.ok and response.error is not None and "is not JSON" in response.error


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("failure", "sent"),
    [
        (httpx.ReadTimeout("slow"), True),
        (httpx.WriteTimeout("slow"), True),
        (httpx.RemoteProtocolError("cut"), True),
        (httpx.ReadError("reset"), True),
        (httpx.ConnectTimeout("no route"), False),
        (httpx.PoolTimeout("busy"), False),
        (httpx.ConnectError("refused"), False),
    ],
)
async def test_a_post_is_retried_only_when_nothing_was_sent(failure: Exception, sent: bool) -> None:
    handler = replies(failure, httpx.Response(200, json={"ok": True}))
    http, _ = client(handler)
    async with http:
        response = await http.request("POST", "https://api.example/orders", json={"a": 1})
    assert response.ok is (not sent)
    assert response.attempts == (1 if sent else 2)
    if sent:
        assert response.error is not None and response.error.endswith("(not retried: POST is not idempotent)")


def test_the_retry_rule() -> None:
    assert {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"} == IDEMPOTENT_METHODS
    assert may_retry(idempotent=True, sent=True) and may_retry(idempotent=False, sent=False)
    assert not may_retry(idempotent=False, sent=True)


@pytest.mark.asyncio
async def test_bad_arguments_are_bugs_with_clear_messages() -> None:
    http, _ = client(replies(httpx.Response(200)))
    async with http:
        with pytest.raises(TypeError, match=r"POST https://api.example/x: the json body has no JSON spelling"):
            await http.request("POST", "https://api.example/x", json={"v": float("nan")})
        with pytest.raises(TypeError, match="no JSON spelling"):
            await http.request("POST", "https://api.example/x", json={"v": object()})
        with pytest.raises(ValueError, match="expected an HTTP method such as POST, found 'GET /'"):
            await http.request("GET /", "https://api.example/x")

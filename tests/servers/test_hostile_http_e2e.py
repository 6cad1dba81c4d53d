"""Hostile HTTP against real servers (issue 13 #7, #9, #11), each with the issue's own input:
tokens in URLs kept out of the log, bodies bounded and typed, control characters kept from
forging log lines, foreign origins and hosts refused, the figures behind their token."""

from __future__ import annotations

import contextlib
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.servers.conftest import Launcher, StartRestream, StartServerDummy, raw_upgrade

GOOD, GUESS, GUESS2, FIGURES, FIGURES_GUESS = "GoodTok3n-x1", "Gue55-x2", "Gue55-hdr-x3", "F1gures-x4", "F1gGue55-x5"
NESTED = b"[" * 60_000 + b"]" * 60_000  # nested 60k deep: a RecursionError for json.loads
NESTED_SMALL = b"[" * 8_000 + b"]" * 8_000  # as deep as fits in 16 KiB: still a RecursionError
FORGED = "2026-01-01T00:00:00.000+00:00 CRITICAL server_speak forged: disk full"
ISO_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ")


@pytest.fixture
def start_speak(tmp_path: Path) -> Iterator[Launcher]:
    with Launcher(tmp_path, "servers.server_speak") as launcher:
        yield launcher


async def status_of(url: str, **headers: str) -> int:
    """The HTTP status a WebSocket upgrade of `url` gets (101 when it is accepted)."""
    try:
        async with connect(url, additional_headers=headers or None):
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


async def origin_status(url: str, origin: str | None) -> int:
    try:
        async with connect(url, origin=origin):  # type: ignore[arg-type]
            return 101
    except InvalidStatus as exc:
        return exc.response.status_code


def upgrade_status(port: int, path: str, host: str) -> int:
    """The status a WebSocket upgrade of `path` with this Host header gets (raw: clients set
    their own Host)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        head = raw_upgrade(sock, path, host)
    return int(head.split()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def raw_post(port: int, path: str, head: str, body_chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """POST `head` and then `body_chunks` until the server answers; the answer's first line and
    how many body bytes went out before it came."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{head}\r\n".encode())
        sock.setblocking(False)
        sent = 0
        answer = b""
        deadline = time.monotonic() + 30
        for chunk in body_chunks:
            with contextlib.suppress(BlockingIOError):
                answer += sock.recv(4096)
            if b"\r\n" in answer or time.monotonic() > deadline:
                break
            try:
                sent += sock.send(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                time.sleep(0.01)
        sock.setblocking(True)
        while b"\r\n" not in answer:
            more = sock.recv(4096)
            if not more:
                break
            answer += more
    return answer.partition(b"\r\n")[0], sent


def forever(chunk: bytes) -> Iterator[bytes]:
    while True:
        yield chunk


def chunked(size: int) -> Iterator[bytes]:
    piece = b"x" * size
    return forever(f"{size:x}\r\n".encode() + piece + b"\r\n")


# ---- #7: tokens never in the log ----


@pytest.mark.asyncio
async def test_tokens_good_and_bad_never_reach_the_log(start_restream: StartRestream) -> None:
    server = start_restream(
        {"tenants": [{"name": "desk", "token": GOOD}], "http": {"figures_token": FIGURES}}, "--log-level", "debug"
    )
    ws = server.url("/ws", ws=True)
    assert await status_of(f"{ws}?token={GOOD}") == 101
    assert await status_of(f"{ws}?token={GUESS}") == 401
    assert await status_of(ws, Authorization=f"Bearer {GUESS2}") == 401
    assert await status_of(f"{ws}?symbols=AAPL&token={GUESS}&x=1") == 401
    assert server.get(f"/status?token={FIGURES}").status_code == 200
    assert server.get(f"/status?token={FIGURES_GUESS}").status_code == 401
    assert httpx.get(server.url("/metrics"), headers={"Authorization": f"Bearer {FIGURES_GUESS}"}).status_code == 401
    server.stop()
    log = server.output()
    for secret in (GOOD, GUESS, GUESS2, FIGURES, FIGURES_GUESS):
        assert secret not in log, secret
    assert '"WebSocket /ws?token=***" [accepted]' in log and '"WebSocket /ws?token=***" 401' in log
    assert all(ISO_LINE.match(line) for line in log.splitlines() if line), log  # uvicorn's lines too


# ---- #11: Origin, Host, figures ----


@pytest.mark.asyncio
async def test_foreign_origin_gets_403_with_and_without_tenants(start_restream: StartRestream) -> None:
    open_server = start_restream()
    ws = open_server.url("/ws", ws=True)
    own = f"http://127.0.0.1:{open_server.port}"
    assert await origin_status(ws, "http://evil.example") == 403
    assert await origin_status(ws, "null") == 403
    assert await origin_status(ws, None) == 101  # tools and notebooks send none
    assert await origin_status(ws, own) == 101  # the dashboard's page
    assert await origin_status(ws, f"http://localhost:{open_server.port}") == 101
    assert await origin_status(ws, f"http://127.0.0.1:{open_server.port + 1}") == 403
    desk = start_restream(
        {"tenants": [{"name": "desk", "token": GOOD}], "http": {"allowed_origins": ["https://Dash.Example:443"]}}
    )
    ws = desk.url(f"/ws?token={GOOD}", ws=True)
    assert await origin_status(ws, "http://evil.example") == 403
    assert await origin_status(ws, "https://dash.example") == 101


def test_a_host_that_is_not_the_server_gets_400(start_restream: StartRestream) -> None:
    server = start_restream()
    assert upgrade_status(server.port, "/ws", "evil.example") == 400  # DNS rebinding: the attacker's name
    assert upgrade_status(server.port, "/ws", f"127.0.0.1:{server.port}") == 101
    assert httpx.get(server.url("/status"), headers={"Host": f"evil.example:{server.port}"}).status_code == 400
    for host in (f"localhost:{server.port}", f"[::1]:{server.port}", f"127.0.0.1:{server.port}"):
        assert httpx.get(server.url("/status"), headers={"Host": host}).status_code == 200, host
    allowed = start_restream({"http": {"allowed_hosts": ["*.desk.example"]}})
    assert httpx.get(allowed.url("/status"), headers={"Host": "gw.desk.example"}).status_code == 200
    assert upgrade_status(allowed.port, "/ws", "gw.desk.example:443") == 101
    assert upgrade_status(allowed.port, "/ws", "desk.example") == 400


def test_figures_and_dashboard_need_the_figures_token_once_configured(start_restream: StartRestream) -> None:
    server = start_restream({"http": {"figures_token": FIGURES}})
    for path in ("/status", "/metrics", "/"):
        assert server.get(path).status_code == 401, path
        assert server.get(f"{path}?token={FIGURES}").status_code == 200, path
        bearer = httpx.get(server.url(path), headers={"Authorization": f"Bearer {FIGURES}"})
        assert bearer.status_code == 200, path
    assert server.get("/health").status_code == 200  # probes stay open
    status = server.get(f"/status?token={FIGURES}").json()
    assert "clients" in status


# ---- #9: bodies ----


def test_speak_refuses_a_400_mb_body_by_its_length_and_while_streaming(start_speak: Launcher, tmp_path: Path) -> None:
    speak = start_speak({"output_dir": str(tmp_path / "speech")})
    before = rss_kib(speak.proc.pid)
    head = "Content-Type: application/json\r\nContent-Length: 419430400\r\n"
    line, sent = raw_post(speak.port, "/speak", head, forever(b'{"text": "' + b"a" * 65_536))
    assert line.startswith(b"HTTP/1.1 413") and sent < 64 * 1024 * 1024, (line, sent)
    line, sent = raw_post(
        speak.port, "/speak", "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n", chunked(65_536)
    )
    assert line.startswith(b"HTTP/1.1 413") and sent < 64 * 1024 * 1024, (line, sent)
    assert rss_kib(speak.proc.pid) - before < 30 * 1024  # not 400 MB read into memory
    assert speak.get("/health").status_code == 200


def test_speak_takes_only_json_and_not_from_other_sites(start_speak: Launcher, tmp_path: Path) -> None:
    speak = start_speak({"output_dir": str(tmp_path / "speech")})
    url = speak.url("/speak")
    # What any web page can make a browser send without a preflight: a text/plain "simple request".
    simple = httpx.post(url, content=b'{"text": "you have been hacked"}', headers={"Content-Type": "text/plain"})
    assert simple.status_code == 415 and "application/json" in simple.json()["error"]
    cross = httpx.post(url, json={"text": "hi"}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403
    assert httpx.post(url, content=NESTED, headers={"Content-Type": "application/json"}).status_code == 413
    deep = httpx.post(url, content=NESTED_SMALL, headers={"Content-Type": "application/json"})
    assert deep.status_code == 400 and "nested deeper" in deep.json()["error"]
    assert httpx.post(url, json={"text": "fine"}).status_code == 202


def test_a_newline_in_spoken_text_cannot_forge_a_log_line(start_speak: Launcher, tmp_path: Path) -> None:
    speak = start_speak({"output_dir": str(tmp_path / "speech")}, "--log-dir", str(tmp_path / "logs"))
    text = f"deploy done\n{FORGED}\r\x1b[2J\u2028x"
    assert httpx.post(speak.url("/speak"), json={"text": text}).status_code == 202
    deadline = time.monotonic() + 10
    while "deploy done" not in speak.output():
        assert time.monotonic() < deadline, speak.output()
        time.sleep(0.05)
    speak.stop()
    human = speak.output()
    assert "deploy done\\n2026-01-01T00:00:00.000+00:00 CRITICAL" in human and "\\x1b[2J\\u2028x" in human
    assert not any(line.startswith(FORGED[:30]) for line in human.splitlines())
    json_lines = "".join(p.read_text() for p in (tmp_path / "logs").glob("*.jsonl")).splitlines()
    assert json_lines and not any(FORGED[:30] in line.split('"message"')[0] for line in json_lines)
    assert not any(line.startswith(FORGED[:30]) for line in json_lines)


def test_dummy_fault_bodies_are_bounded_typed_and_depth_safe(start_server_dummy: StartServerDummy) -> None:
    dummy = start_server_dummy()
    head = "Content-Type: application/json\r\nContent-Length: 419430400\r\n"
    line, _ = raw_post(dummy.port, "/fault", head, forever(b" " * 65_536))
    assert line.startswith(b"HTTP/1.1 413"), line
    url = dummy.url("/fault")
    assert httpx.post(url, content=b'{"mode": "stall"}').status_code == 415
    assert httpx.post(url, content=NESTED, headers={"Content-Type": "application/json"}).status_code == 413
    deep = httpx.post(url, content=NESTED_SMALL, headers={"Content-Type": "application/json"})
    assert deep.status_code == 400 and "nested deeper" in deep.json()["error"]
    assert httpx.post(url, json={"mode": "none"}).status_code == 200

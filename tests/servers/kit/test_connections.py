"""ConnectionGate's policy, the refusal it answers with, the loop's accept-error handler, and
the warning for an open server beyond loopback: plain code, no sockets."""

from __future__ import annotations

import errno
import logging
from typing import Any

import pytest

from lib_common.metrics import Exposition
from servers.kit.config import ClientLimits
from servers.kit.connections import FD_HEADROOM, PER_IP, TOTAL, ConnectionGate
from servers.kit.ingress import on_loop_exception, refusal_response
from servers.kit.serving import exposure_warning, is_loopback


def gate(**overrides: Any) -> ConnectionGate:
    return ConnectionGate(**{"per_ip": 2, "total": 3, "handshake_timeout_s": 10.0, **overrides})


def test_an_address_gets_its_share_then_429_and_the_server_its_total_then_503() -> None:
    g = gate()
    assert [g.admit("10.0.0.1") for _ in range(3)] == [None, None, PER_IP]
    assert g.admit("10.0.0.2") is None
    assert g.admit("10.0.0.3") is TOTAL
    assert (PER_IP.status, TOTAL.status) == (429, 503)
    assert g.open == 3 and g.refused == {"per_ip": 1, "total": 1}
    g.leave("10.0.0.1")
    assert g.admit("10.0.0.3") is None  # a place came free
    g.leave("10.0.0.2")
    assert dict(g.by_ip) == {"10.0.0.1": 1, "10.0.0.3": 1}  # empty addresses are forgotten


def test_the_descriptor_room_caps_below_the_total() -> None:
    g = gate(per_ip=100, total=100, fd_room=2)
    assert [g.admit("h") for _ in range(3)] == [None, None, FD_HEADROOM]
    assert FD_HEADROOM.status == 503


def test_the_defaults_come_from_the_limits() -> None:
    g = ConnectionGate.from_limits(ClientLimits())
    assert (g.per_ip, g.total, g.handshake_timeout_s, g.fd_headroom) == (256, 4096, 10.0, 64)


def test_the_figures_are_exposed_for_every_reason() -> None:
    g = gate()
    g.admit("a")
    g.handshake_timeouts = 4
    out = Exposition()
    g.expose(out, "restream")
    text = out.render()
    assert "restream_connections_open 1" in text
    assert 'restream_connections_refused_total{reason="fd_headroom"} 0' in text
    assert "restream_handshake_timeouts_total 4" in text


def test_a_refusal_is_a_complete_http_response_that_closes() -> None:
    head, _, body = refusal_response(TOTAL).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 Service Unavailable\r\n")
    assert b"Connection: close" in head and b"Retry-After: 1" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"Retry-After" not in refusal_response(PER_IP)


class FakeLoop:
    def __init__(self) -> None:
        self.now = 0.0
        self.defaulted: list[dict[str, Any]] = []

    def time(self) -> float:
        return self.now

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        self.defaulted.append(context)


def test_accept_failures_for_lack_of_descriptors_are_one_line_then_a_summary(caplog: pytest.LogCaptureFixture) -> None:
    g, loop = gate(), FakeLoop()
    emfile = {"message": "socket.accept() out of system resource", "exception": OSError(errno.EMFILE, "Too many")}
    with caplog.at_level(logging.ERROR, logger="servers.kit.ingress"):
        for i in range(4096 * 11):  # asyncio's accept loop: up to the backlog a second, for 11 s
            loop.now = i / 4096
            on_loop_exception(g, loop, emfile)  # type: ignore[arg-type]
    assert len(caplog.records) == 2
    assert "4095" not in caplog.records[0].getMessage()
    assert f"{4096 * 10 - 1} more since the last" in caplog.records[1].getMessage()
    assert not any(record.exc_info for record in caplog.records)
    assert g.accept_errors.total == 4096 * 11
    other = {"message": "boom", "exception": ValueError("x")}
    on_loop_exception(g, loop, other)  # type: ignore[arg-type]
    assert loop.defaulted == [other]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("desk.example", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_only_an_open_server_beyond_loopback_is_warned_of() -> None:
    assert exposure_warning("127.0.0.1", 8765, authenticated=False) is None
    assert exposure_warning("0.0.0.0", 8765, authenticated=True) is None
    warning = exposure_warning("0.0.0.0", 8765, authenticated=False)
    assert warning is not None and "0.0.0.0:8765" in warning and "no authentication" in warning

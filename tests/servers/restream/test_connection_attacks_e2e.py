"""Connection hygiene against a real restream process on loopback (issue 13, items 4 and 5):
ping floods from a client that never reads, slowloris, per-address and total connection caps,
descriptor exhaustion, and the warning for an open server beyond loopback. A healthy client
subscribed throughout must keep receiving its quotes."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.frames import Frame, Opcode

from tests.processes import free_port
from tests.servers.conftest import (
    RestreamProcess,
    ServerProcess,
    StartRestream,
    response_head,
    until,
    upgrade_request,
)
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe
from tests.servers.restream.test_slow_and_tls_e2e import raw_websocket

pytestmark = pytest.mark.asyncio

SYMBOLS = ["A", "B", "C", "D", "E"]
RATE = 20  # quotes per second per symbol: the healthy client expects 100/s
FEED = ("--symbols", ",".join(SYMBOLS), "--rate", str(RATE))
MIN_RATE = 0.8 * RATE * len(SYMBOLS)  # what the healthy client must keep during an attack (loaded CI)
BOUND_BYTES = 1 << 20  # a client's transport never holds more (high water 64 KiB + one read's pongs)


class Healthy:
    """A client subscribed to SYMBOLS that reads eagerly; `rate(since)` is its quotes/s."""

    def __init__(self) -> None:
        self.arrivals: list[float] = []

    def rate(self, since: float) -> float:
        span = time.monotonic() - since
        return sum(1 for t in self.arrivals if t >= since) / span


@contextlib.asynccontextmanager
async def healthy_client(server: RestreamProcess) -> AsyncIterator[Healthy]:
    healthy = Healthy()
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, *SYMBOLS)

        async def read() -> None:
            while True:
                await recv_until(ws, "quote")
                healthy.arrivals.append(time.monotonic())

        task = asyncio.create_task(read())
        await until(lambda: len(healthy.arrivals) >= 20)
        try:
            yield healthy
        finally:
            task.cancel()


class Flood:
    """What a flooding client saw: when its flood started, and how and when the server ended it."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.ended: tuple[float, OSError] | None = None


@contextlib.contextmanager
def ping_flood(server: RestreamProcess) -> Iterator[Flood]:
    """A client past the handshake that sends 125-byte pings as fast as it can and never reads."""
    sock = raw_websocket(server)
    sock.settimeout(0.2)
    pings = Frame(Opcode.PING, b"x" * 125).serialize(mask=True) * 64
    stop = threading.Event()
    seen = Flood()

    def flood() -> None:
        while not stop.is_set():
            try:
                sock.send(pings)
            except TimeoutError:  # the server stopped reading: TCP holds us back
                continue
            except OSError as exc:  # the server closed us
                seen.ended = (time.monotonic(), exc)
                return

    thread = threading.Thread(target=flood, daemon=True)
    thread.start()
    try:
        yield seen
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def connections(server: RestreamProcess) -> dict[str, object]:
    body: dict[str, object] = server.status()["connections"]  # type: ignore[assignment]
    return body


def clients(server: RestreamProcess) -> int:
    return int(server.status()["clients"]["connected"])  # type: ignore[index]


def rss_mb(server: RestreamProcess) -> float:
    for line in Path(f"/proc/{server.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


async def sample_buffered(server: RestreamProcess, seconds: float) -> int:
    """The highest of the server's transport-buffered bytes, sampled for `seconds`."""
    highest = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        highest = max(highest, int(connections(server)["buffered_bytes"]))  # type: ignore[call-overload]
        await asyncio.sleep(0.2)
    return highest


async def test_a_ping_flood_spends_the_token_bucket_and_is_closed_with_1008(start_restream: StartRestream) -> None:
    server = start_restream(None, *FEED)
    async with healthy_client(server) as healthy:
        start = time.monotonic()
        with ping_flood(server):
            await until(lambda: clients(server) == 1, timeout=5)  # the flooder is gone
            assert await sample_buffered(server, 1.0) < BOUND_BYTES
        assert "message flood" in server.output()
        assert healthy.rate(start) >= MIN_RATE


async def test_a_flooder_that_floods_on_after_its_1008_is_dropped_not_read_for_the_close_grace(
    start_restream: StartRestream,
) -> None:
    # The 1008 goes out after the bucket's burst; the close grace for a client whose writes flow
    # is 5 s (kit.egress), and the server used to parse the flood until it ended. Now a peer gets
    # 256 KiB after the close frame, then its connection is aborted: the flooder's sends fail
    # long before the grace would end.
    server = start_restream(None, *FEED)
    with ping_flood(server) as flood:
        await until(lambda: flood.ended is not None, timeout=10)
    assert flood.ended is not None
    ended_at, error = flood.ended
    assert isinstance(error, ConnectionResetError | BrokenPipeError), error
    assert ended_at - flood.started < 3.0, f"the flood was read for {ended_at - flood.started:.1f} s"
    assert "message flood" in server.output()


async def test_a_ping_flood_within_the_bucket_from_a_client_that_never_reads_stays_bounded(
    start_restream: StartRestream,
) -> None:
    # A bucket the flood cannot empty: what bounds it is that reading stops while writes are paused.
    generous = {"limits": {"messages_per_second": 10_000_000, "burst": 10_000_000}, "memory": {"stall_timeout_s": 60}}
    server = start_restream(generous, *FEED)
    async with healthy_client(server) as healthy:
        rss_before = rss_mb(server)
        start = time.monotonic()
        with ping_flood(server):
            highest = await sample_buffered(server, 4.0)
            assert clients(server) == 2, "the flooder is still connected"
            rss_growth = rss_mb(server) - rss_before
        assert highest < BOUND_BYTES, f"{highest} bytes buffered for a client that never reads"
        assert rss_growth < 30, f"RSS grew {rss_growth:.0f} MB under the flood"
        assert healthy.rate(start) >= MIN_RATE


async def test_slowloris_sockets_are_closed_after_the_handshake_timeout(start_restream: StartRestream) -> None:
    server = start_restream({"limits": {"handshake_timeout_s": 1}}, *FEED)
    async with healthy_client(server) as healthy:
        start = time.monotonic()
        silent = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
        dribbling = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(50)]
        request = upgrade_request("/ws", f"127.0.0.1:{server.port}")
        for sock in silent + dribbling:
            sock.setblocking(False)

        def closed(sock: socket.socket) -> bool:
            try:
                return sock.recv(1024) == b""
            except BlockingIOError:
                return False
            except OSError:  # reset
                return True

        try:
            for i in range(40):  # a byte of the request line every 0.1 s: 4 s, never a whole head
                for sock in dribbling:
                    with contextlib.suppress(OSError):
                        sock.send(request[i : i + 1])
                await asyncio.sleep(0.1)
            assert all(closed(sock) for sock in silent + dribbling)
        finally:
            for sock in silent + dribbling:
                sock.close()
        assert connections(server)["handshake_timeouts"] == 100
        assert healthy.rate(start) >= MIN_RATE
    assert "no authentication" not in server.output()  # loopback: no warning


def upgrade_from(server: RestreamProcess, source: str) -> tuple[socket.socket, bytes]:
    """An upgrade request from the loopback address `source`; the socket and its response head."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5, source_address=(source, 0))
    sock.sendall(upgrade_request("/ws", f"127.0.0.1:{server.port}"))
    return sock, response_head(sock)


async def test_connections_past_the_per_address_and_total_caps_are_refused_before_the_upgrade(
    start_restream: StartRestream,
) -> None:
    server = start_restream({"limits": {"max_connections_per_ip": 3, "max_connections_total": 5}}, *FEED)
    held: list[socket.socket] = []
    # (address, connections upgraded, then the status of the next): another address has its
    # own share, up to the total
    steps = [("127.0.0.1", 3, b"429"), ("127.0.0.2", 2, b"503")]
    try:
        for source, admitted, refused in steps:
            for _ in range(admitted):
                sock, head = upgrade_from(server, source)
                held.append(sock)
                assert head.startswith(b"HTTP/1.1 101")
            sock, head = upgrade_from(server, source)
            sock.close()
            assert head.startswith(b"HTTP/1.1 " + refused), head
    finally:
        for sock in held:
            sock.close()
    await until(lambda: clients(server) == 0)
    metrics = server.get("/metrics").text
    assert 'restream_connections_refused_total{reason="per_ip"} 1' in metrics
    assert 'restream_connections_refused_total{reason="total"} 1' in metrics


def low_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


async def test_at_the_descriptor_limit_existing_clients_are_served_and_the_log_stays_short(tmp_path: Path) -> None:
    server = ServerProcess(list(FEED), free_port(), tmp_path / "restream.log", preexec_fn=low_fd_limit)
    try:
        async with healthy_client(server) as healthy:
            start = time.monotonic()
            storm = []
            for _ in range(400):
                with contextlib.suppress(OSError):
                    storm.append(socket.create_connection(("127.0.0.1", server.port), timeout=2))
            await asyncio.sleep(3)
            for sock in storm:
                sock.close()
            assert healthy.rate(start) >= MIN_RATE
        async with healthy_client(server):  # a new client once the storm is over
            pass
        figures = connections(server)
        refused = figures["refused"]
        assert isinstance(refused, dict)
        assert refused.get("fd_headroom", 0) + int(figures["accept_errors"]) > 0  # type: ignore[call-overload]
        log = server.output()
        assert "Traceback" not in log
        assert log.count("cannot accept a connection") <= 2
        assert len(log) < 20_000
    finally:
        server.stop()


async def test_an_open_server_beyond_loopback_warns_at_start(start_restream: StartRestream) -> None:
    server = start_restream(None, "--host", "0.0.0.0")
    warnings = [line for line in server.output().splitlines() if "WARNING" in line and "no authentication" in line]
    assert len(warnings) == 1 and "0.0.0.0" in warnings[0], server.output()

"""monitor_net's throughput probe against an HTTP server on loopback: bounded by size and time,
failures counted and reported, the rate in the monitor's figures."""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from lib_common.config import parse_config
from lib_common.errors import ConfigError
from rsdev_misc.monitor_net import from_section
from rsdev_misc.throughput import DownloadError, ThroughputConfig, ThroughputProbe, download
from tests.misc.conftest import run_monitor
from tests.processes import free_port

CHUNK = 16 * 1024


class Handler(BaseHTTPRequestHandler):
    """/bytes/N: N bytes; /drip: 1 KiB every 50 ms without end; /silent: never answers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if match := re.fullmatch(r"/bytes/([0-9]+)", self.path):
            size = int(match.group(1))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            sent = 0
            try:
                while sent < size:
                    part = min(CHUNK, size - sent)
                    self.wfile.write(b"x" * part)
                    sent += part
            except OSError:
                pass  # the probe stopped reading: that is its bound
        elif self.path == "/drip":
            self.send_response(200)
            self.send_header("Content-Length", str(10**9))
            self.end_headers()
            try:
                for _ in range(200):  # 10 s at most, then the server gives up by itself
                    self.wfile.write(b"y" * 1024)
                    self.wfile.flush()
                    time.sleep(0.05)  # the slow server being staged, not a wait in a test
            except OSError:
                pass
        elif self.path == "/silent":
            self.server.release.wait(10)  # type: ignore[attr-defined]
        else:
            self.send_error(404)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.release = threading.Event()  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.release.set()  # type: ignore[attr-defined]
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


async def fetch(url: str, *, max_bytes: int = 10**9, max_s: float = 10.0) -> object:
    async with httpx.AsyncClient() as client:
        return await download(client, url, max_bytes=max_bytes, max_s=max_s)


@pytest.mark.asyncio
async def test_a_whole_body_is_measured(server: str) -> None:
    transfer = await fetch(f"{server}/bytes/300000")
    assert transfer.status == 200 and transfer.bytes == 300_000 and transfer.limited_by == "end"  # type: ignore[attr-defined]
    assert transfer.seconds > 0 and transfer.bytes_per_s == transfer.bytes / transfer.seconds  # type: ignore[attr-defined]
    assert transfer.ttfb_ms >= 0  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_the_download_stops_at_max_bytes(server: str) -> None:
    transfer = await fetch(f"{server}/bytes/50000000", max_bytes=200_000)
    assert transfer.limited_by == "size"  # type: ignore[attr-defined]
    assert 200_000 <= transfer.bytes < 200_000 + 256 * 1024  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_the_download_stops_at_max_s_and_still_measures(server: str) -> None:
    started = time.perf_counter()
    transfer = await fetch(f"{server}/drip", max_s=0.4)
    assert time.perf_counter() - started < 2.0
    assert transfer.limited_by == "time" and 1024 <= transfer.bytes < 20 * 1024  # type: ignore[attr-defined]
    rate = transfer.bytes_per_s  # type: ignore[attr-defined]
    assert rate is not None and 2_000 < rate < 100_000  # ~20 KiB/s staged


@pytest.mark.asyncio
async def test_failures_say_what_happened(server: str) -> None:
    with pytest.raises(DownloadError, match=r"^HTTP 404 from http://127\.0\.0\.1:\d+/missing$"):
        await fetch(f"{server}/missing")
    with pytest.raises(DownloadError, match=r"^no answer from http://127\.0\.0\.1:\d+/silent within 0.3 s$"):
        await fetch(f"{server}/silent", max_s=0.3)
    with pytest.raises(DownloadError, match=r"^download from http://127\.0\.0\.1:\d+/ failed: ConnectError"):
        await fetch(f"http://127.0.0.1:{free_port()}/")
    with pytest.raises(DownloadError) as caught:
        await fetch(f"http://user:hunter2@127.0.0.1:{free_port()}/")
    assert "hunter2" not in str(caught.value)


@pytest.mark.asyncio
async def test_the_probe_downloads_when_due_counts_failures_and_logs_once(
    server: str, caplog: pytest.LogCaptureFixture
) -> None:
    probe = ThroughputProbe(ThroughputConfig(url=f"{server}/missing", every_s=60))
    try:
        assert probe.due(1000.0)
        with caplog.at_level(logging.INFO, logger="rsdev_misc.throughput"):
            await probe.measure(1000.0, 1)
            assert not probe.due(1059.9) and probe.due(1060.0)
            await probe.measure(1060.0, 2)
            figures = probe.figures()
            assert figures["downloads"] == 2 and figures["failures"] == 2
            assert str(figures["error"]).startswith("HTTP 404 from")
            probe.config = ThroughputConfig(url=f"{server}/bytes/1000", every_s=60)
            await probe.measure(1120.0, 3)
        failed = [r for r in caplog.records if "throughput probe" in r.getMessage()]
        assert [r.levelno for r in failed] == [logging.WARNING, logging.INFO]  # the first failure, the recovery
        figures = probe.figures()
        assert figures["error"] is None and figures["bytes"] == 1000 and figures["limited_by"] == "end"
        assert figures["failures"] == 2 and figures["downloads"] == 3 and figures["at_us"] == 3
    finally:
        await probe.close()


def test_no_url_means_no_probe() -> None:
    probe = ThroughputProbe(ThroughputConfig())
    assert not probe.due(0.0)


def test_once_reports_the_transfer_rate(server: str) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        done = run_monitor(
            "rsdev_misc.monitor_net",
            "--once",
            "--target",
            f"127.0.0.1:{sock.getsockname()[1]}",
            "--throughput-url",
            f"{server}/bytes/1000000",
        )
    finally:
        sock.close()
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.splitlines()[-1])["throughput"]
    assert figures["bytes"] == 1_000_000 and figures["limited_by"] == "end" and figures["error"] is None
    assert figures["bytes_per_s"] > 0 and figures["url"] == f"{server}/bytes/1000000"


def test_the_config_section() -> None:
    config = parse_config(
        '{throughput: {url: "http://h/f", max_bytes: 1000, max_s: 2, every_s: 0}}', from_section, env={}
    )
    assert config.throughput == ThroughputConfig(url="http://h/f", max_bytes=1000, max_s=2.0, every_s=0.0)
    with pytest.raises(ConfigError, match=r"throughput.url: expected an http:// or https:// URL, found 'ftp://h/f'"):
        parse_config('{throughput: {url: "ftp://h/f"}}', from_section, env={})
    with pytest.raises(ConfigError, match=r"throughput\.max_bytes: must be at least 1"):
        parse_config("{throughput: {max_bytes: 0}}", from_section, env={})

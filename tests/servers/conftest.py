"""Fixtures that run servers (restream, server_dummy) as real processes on free loopback ports."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import free_port, wait_healthy


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for an observable condition (polled), failing after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.05)


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m MODULE *args` to its end (at most 30 s), its output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=30, check=False
    )


def upgrade_request(path: str, host: str) -> bytes:
    """A WebSocket upgrade request of `path` with this Host header, as bytes to send raw."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def response_head(sock: socket.socket) -> bytes:
    """Read up to the end of an HTTP response head (byte by byte: nothing after it is taken)."""
    head = b""
    while b"\r\n\r\n" not in head:
        more = sock.recv(1)
        if not more:
            break
        head += more
    return head


def raw_upgrade(sock: socket.socket, path: str, host: str) -> bytes:
    """Send a WebSocket upgrade of `path` with this Host header on a connected socket (no client
    library: they set Host themselves and read on); the response head, up to its blank line."""
    sock.sendall(upgrade_request(path, host))
    return response_head(sock)


class ServerProcess:
    """A server subprocess (`python -m MODULE --port PORT ...`); `url(path)` builds its addresses."""

    def __init__(
        self,
        args: list[str],
        port: int,
        log: Path,
        scheme: str = "http",
        verify: object = True,
        module: str = "servers.restream",
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        self.name = module.rpartition(".")[2]
        self.port = port
        self.log = log
        self.scheme = scheme
        self.verify = verify
        env = {**os.environ, "NO_PROXY": "*", "PYTHONUNBUFFERED": "1"}
        with log.open("wb") as out:  # a file, not a pipe: nobody must read for the server to write
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module, "--port", str(port), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=preexec_fn,  # e.g. a lower RLIMIT_NOFILE (POSIX)
            )
        self._wait_healthy()

    def url(self, path: str, ws: bool = False) -> str:
        scheme = {"http": "ws", "https": "wss"}[self.scheme] if ws else self.scheme
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url(path), verify=self.verify, timeout=5)  # type: ignore[arg-type]

    def status(self) -> dict[str, object]:
        body: dict[str, object] = self.get("/status").json()
        return body

    def _wait_healthy(self, timeout: float = 15.0) -> None:
        problem = wait_healthy(self.proc, self.url("/health"), timeout, verify=self.verify)  # type: ignore[arg-type]
        if problem is not None:
            self.stop()
            raise RuntimeError(f"{self.name} {problem}:\n{self.output()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


RestreamProcess = ServerProcess
StartRestream = Callable[..., RestreamProcess]
StartServerDummy = Callable[..., ServerProcess]


class Launcher:
    """Starts processes of one server module, each with its own config file and log; stops them all
    (on leaving `with Launcher(...) as start:`, or by stop_all)."""

    def __init__(self, tmp_path: Path, module: str) -> None:
        self.tmp_path = tmp_path
        self.module = module
        self.running: list[ServerProcess] = []

    def __call__(
        self, config: dict[str, object] | None = None, *flags: str, scheme: str = "http", verify: object = True
    ) -> ServerProcess:
        name = f"{self.module.rpartition('.')[2]}-{len(self.running)}"
        args = list(flags)
        if config is not None:
            path = self.tmp_path / f"{name}.json5"
            path.write_text(json.dumps(config))
            args = ["--config", str(path), *args]
        proc = ServerProcess(
            args, free_port(), self.tmp_path / f"{name}.log", scheme=scheme, verify=verify, module=self.module
        )
        self.running.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.running:
            proc.stop()

    def __enter__(self) -> Launcher:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop_all()


@pytest.fixture
def start_restream(tmp_path: Path) -> Iterator[StartRestream]:
    """`start_restream(config=None, *flags, scheme="http", verify=True)` → a healthy process."""
    with Launcher(tmp_path, "servers.restream") as launcher:
        yield launcher


@pytest.fixture
def start_server_dummy(tmp_path: Path) -> Iterator[StartServerDummy]:
    """`start_server_dummy(*flags, config=None)` → a healthy server_dummy process."""
    with Launcher(tmp_path, "servers.server_dummy") as launcher:
        yield lambda *flags, config=None: launcher(config, *flags)

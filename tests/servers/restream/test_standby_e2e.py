"""A warm standby (servers.kit.standby, issue 12): a second restream with the same
`listen.standby_lock` waits, imported and configured, and serves the moment the first is gone;
a SIGHUP hands over to it only once it listens. Real processes, a real WebSocket client."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.processes import free_port
from tests.servers.conftest import ServerProcess, until
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

pytestmark = pytest.mark.asyncio


def config(tmp_path: Path) -> Path:
    path = tmp_path / "standby.json5"
    path.write_text(json.dumps({"listen": {"reuse_port": True, "standby_lock": "run/restream.lock"}}))
    return path


def serving_pid(tmp_path: Path) -> int | None:
    try:
        return int((tmp_path / "run" / "restream.lock.serving").read_text())
    except (OSError, ValueError):
        return None


def logged(log: Path, text: bytes) -> bool:
    return log.exists() and text in log.read_bytes()


def start(tmp_path: Path, name: str, port: int) -> ServerProcess:
    return ServerProcess(["--config", str(config(tmp_path)), "--rate", "20"], port, tmp_path / f"{name}.log")


@contextlib.asynccontextmanager
async def serving_and_standby(tmp_path: Path) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    """A restream serving on a port and a second one standing by for it; both stopped after."""
    port = free_port()
    serving = start(tmp_path, "serving", port)
    standby: ServerProcess | None = None
    try:
        await until(lambda: serving_pid(tmp_path) == serving.proc.pid)
        standby = start(tmp_path, "standby", port)  # healthy at once: the serving one answers on the port
        await until(lambda: logged(tmp_path / "standby.log", b"standing by"))
        assert serving_pid(tmp_path) == serving.proc.pid
        yield serving, standby
    finally:
        for server in (serving, standby):
            if server is not None:
                server.stop()


async def closed_after(ws: ClientConnection) -> ConnectionClosed:
    """Read `ws` until the server closes it: how it closed."""
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    return closed.value


async def test_the_standby_serves_after_a_kill_9(tmp_path: Path) -> None:
    async with serving_and_standby(tmp_path) as (first, second):
        async with connect(first.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            await recv_until(ws, "quote")
            first.proc.kill()
            assert (await closed_after(ws)).rcvd is None  # no close frame: the process is gone
        await until(lambda: serving_pid(tmp_path) == second.proc.pid)
        assert logged(tmp_path / "standby.log", b"taking over")
        async with connect(second.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            assert (await recv_until(ws, "quote"))["symbol"] == "AAPL"


async def test_a_sighup_closes_clients_only_once_the_standby_listens(tmp_path: Path) -> None:
    async with serving_and_standby(tmp_path) as (old, standby):
        async with connect(old.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            await recv_until(ws, "quote")
            os.kill(old.proc.pid, signal.SIGHUP)
            closed = await closed_after(ws)
            serving_at_close = serving_pid(tmp_path)
        assert closed.rcvd is not None and closed.rcvd.code == 1012
        assert serving_at_close == standby.proc.pid  # it listened before the old one let its client go
        assert old.proc.wait(15) == 0
        async with connect(standby.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            assert (await recv_until(ws, "quote"))["symbol"] == "AAPL"

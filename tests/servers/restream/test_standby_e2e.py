"""A warm standby (servers.kit.standby, issue 12): a second restream with the same
`listen.standby_lock` waits, imported and configured, and serves the moment the first is gone;
a SIGHUP hands over to it only once it listens. Real processes, a real WebSocket client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.servers.conftest import ServerProcess, free_port, until
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


async def test_the_standby_serves_after_a_kill_9(tmp_path: Path) -> None:
    port = free_port()
    first = start(tmp_path, "first", port)
    second: ServerProcess | None = None
    try:
        await until(lambda: serving_pid(tmp_path) == first.proc.pid)
        second = start(tmp_path, "second", port)  # healthy: the first answers on the port
        await until(lambda: logged(tmp_path / "second.log", b"standing by"))
        assert serving_pid(tmp_path) == first.proc.pid
        async with connect(first.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            await recv_until(ws, "quote")
            first.proc.kill()
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is None  # no close frame: the process is gone
        await until(lambda: serving_pid(tmp_path) == second.proc.pid)
        assert logged(tmp_path / "second.log", b"taking over")
        async with connect(second.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            assert (await recv_until(ws, "quote"))["symbol"] == "AAPL"
    finally:
        for server in (first, second):
            if server is not None:
                server.stop()


async def test_a_sighup_closes_clients_only_once_the_standby_listens(tmp_path: Path) -> None:
    port = free_port()
    old = start(tmp_path, "old", port)
    standby: ServerProcess | None = None
    try:
        await until(lambda: serving_pid(tmp_path) == old.proc.pid)
        standby = start(tmp_path, "standby", port)
        await until(lambda: logged(tmp_path / "standby.log", b"standing by"))
        async with connect(old.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            await recv_until(ws, "quote")
            os.kill(old.proc.pid, signal.SIGHUP)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            serving_at_close = serving_pid(tmp_path)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert serving_at_close == standby.proc.pid  # it listened before the old one let its client go
        assert old.proc.wait(15) == 0
        async with connect(standby.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            assert (await recv_until(ws, "quote"))["symbol"] == "AAPL"
    finally:
        for server in (old, standby):
            if server is not None:
                server.stop()

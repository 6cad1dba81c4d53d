"""Planned restarts (issue 12 #2): a successor listens beside the running restream
(`listen.reuse_port`), SIGHUP makes the old one stop accepting and close its clients with 1012
(service restart), and they come straight back to the successor. Without `reuse_port` a second
process on the same port still fails, as it should."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.processes import free_port
from tests.servers.conftest import ServerProcess, run_module, until
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

pytestmark = pytest.mark.asyncio


def config(tmp_path: Path, name: str, reuse_port: bool) -> Path:
    path = tmp_path / f"{name}.json5"
    path.write_text(json.dumps({"listen": {"reuse_port": reuse_port}}))
    return path


def started(log: Path) -> bool:
    return log.exists() and b"Application startup complete" in log.read_bytes()


async def test_a_successor_serves_before_the_old_process_lets_go(tmp_path: Path) -> None:
    port = free_port()
    old = ServerProcess(["--config", str(config(tmp_path, "old", True)), "--rate", "20"], port, tmp_path / "old.log")
    new: ServerProcess | None = None
    try:
        async with connect(old.url("/ws", ws=True)) as ws:
            await subscribe(ws, "AAPL")
            await recv_until(ws, "quote")
            # The successor binds the same port while the old process serves (health answers from
            # either: wait for the successor's own startup line).
            new = ServerProcess(
                ["--config", str(config(tmp_path, "new", True)), "--rate", "20"], port, tmp_path / "new.log"
            )
            await until(lambda: started(tmp_path / "new.log"))
            os.kill(old.proc.pid, signal.SIGHUP)
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        assert old.proc.wait(15) == 0
        came_back = time.monotonic()
        async with connect(new.url("/ws", ws=True)) as ws:  # only the successor listens now
            await subscribe(ws, "AAPL")
            assert (await recv_until(ws, "quote"))["symbol"] == "AAPL"
        assert time.monotonic() - came_back < 5
        assert new.proc.poll() is None
    finally:
        for server in (old, new):
            if server is not None and server.proc.poll() is None:
                server.proc.terminate()
                server.proc.wait(15)


async def test_without_reuse_port_a_second_process_on_the_port_fails(tmp_path: Path) -> None:
    port = free_port()
    first = ServerProcess(["--config", str(config(tmp_path, "first", False))], port, tmp_path / "first.log")
    try:
        second = run_module("servers.restream", "--port", str(port), "--config", str(config(tmp_path, "s", False)))
        assert second.returncode != 0
        assert "address already in use" in second.stderr.lower()
    finally:
        first.proc.terminate()
        first.proc.wait(15)

"""Handover restarts end to end (issue 12 #2): real supervisord, real restream processes on one
port with `listen.reuse_port`, a real WebSocket client. `pmdaemon restart` and `reload` start
the successor beside the serving process and SIGHUP the old one, whose clients get 1012 and
come straight back; `stop` is still 1001; a service without `handover` restarts the old way."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidMessage

from pmdaemon import control
from pmdaemon.launch import MARKER, marker
from pmdaemon.procfs import ProcFS
from tests.pmdaemon.conftest import SLEEPER_ARGS, Daemon, free_port, wait_for

pytestmark = pytest.mark.asyncio


def restream(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": "restream",
        "port": port,
        "command": [sys.executable, "-m", "servers.restream", "--port", "${port}", "--rate", "20"],
        "env": {"RSDEV__LISTEN__REUSE_PORT": "true", "PYTHONUNBUFFERED": "1"},
        "handover": True,
        "start_secs": 1,
        **extra,
    }


async def quote(ws: ClientConnection, symbol: str = "AAPL") -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            body: dict[str, Any] = json.loads(await ws.recv())
            if body.get("type") == "quote" and body.get("symbol") == symbol:
                return body


async def subscribed(port: int) -> ClientConnection:
    ws = await connect(f"ws://127.0.0.1:{port}/ws")
    await ws.send(json.dumps({"op": "subscribe", "symbols": ["AAPL"]}))
    await quote(ws)
    return ws


async def close_code_across(ws: ClientConnection, daemon: Daemon, *command: str) -> tuple[int | None, str]:
    """Read `ws` while pmdaemon runs `command`: the close code the client got, and pmdaemon's output."""
    run = asyncio.create_task(asyncio.to_thread(daemon.cli, *command))
    code = None
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 30)
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd is not None else None
    result = await run
    assert result.returncode == 0, result.stderr
    return code, result.stdout


def service_processes(daemon: Daemon) -> list[int]:
    """Every live process carrying either slot's marker: the service's processes, orphans included."""
    procfs = ProcFS()
    marks = {marker(daemon.state.root, f"restream@{slot}") for slot in "ab"}
    return sorted(pid for pid in procfs.pids() if procfs.environ(pid).get(MARKER) in marks)


async def test_restart_and_reload_hand_over_with_1012_and_stop_is_1001(daemon: Daemon) -> None:
    port = free_port()
    await asyncio.to_thread(daemon.start, [restream(port), {"name": "plain", "command": SLEEPER_ARGS}])
    first = daemon.running("restream")
    assert first["program"] == "restream@a" and service_processes(daemon) == [first["pid"]]

    ws = await wait_until_subscribed(port)
    code, out = await close_code_across(ws, daemon, "restart", "restream")
    assert code == 1012 and "handed over restream from pid" in out
    # The client comes straight back, to the successor, which was listening all along.
    ws = await subscribed(port)
    second = daemon.running("restream", other_than=first["pid"], timeout=5)
    assert second["program"] == "restream@b"
    wait_for(lambda: service_processes(daemon) == [second["pid"]], 10, "one restream process, no orphan")
    wait_for(lambda: daemon.service("restream")["restarts"] == 1, 10, "the handover counted as one restart")
    assert daemon.record("restream")["last_action"]["detail"].startswith("handed over")

    # reload with a changed configuration: the idle slot takes it, then the service hands over.
    daemon.write_services([restream(port, env={"RSDEV__LISTEN__REUSE_PORT": "true", "CHANGED": "1"})])
    code, out = await close_code_across(ws, daemon, "reload")
    assert code == 1012 and "changed: ['restream']" in out
    ws = await subscribed(port)
    third = daemon.running("restream", other_than=second["pid"], timeout=5)
    assert third["program"] == "restream@a"
    assert b"CHANGED=1" in Path(f"/proc/{third['pid']}/environ").read_bytes()
    wait_for(lambda: service_processes(daemon) == [third["pid"]], 10, "one restream process after reload")

    # kill -9: supervisord starts the same slot again (an unexpected exit), one process.
    await ws.close()
    os.kill(third["pid"], signal.SIGKILL)
    fourth = daemon.running("restream", other_than=third["pid"], timeout=15)
    assert fourth["program"] == "restream@a"
    ws = await wait_until_subscribed(port)
    wait_for(lambda: service_processes(daemon) == [fourth["pid"]], 10, "one restream process after kill -9")

    # Shutdown for good is SIGTERM: 1001, and nothing left.
    code, out = await close_code_across(ws, daemon, "stop", "restream")
    assert code == 1001 and out.strip() == "stopped restream"
    assert service_processes(daemon) == []


async def wait_until_subscribed(port: int, timeout: float = 15) -> ClientConnection:
    async with asyncio.timeout(timeout):
        while True:
            try:
                return await subscribed(port)
            except (OSError, InvalidMessage):  # refused, or reset in the killed process's accept queue
                await asyncio.sleep(0.1)


async def test_a_service_without_handover_still_stops_then_starts(daemon: Daemon) -> None:
    await asyncio.to_thread(daemon.start, [{"name": "plain", "command": SLEEPER_ARGS}])
    before = daemon.running("plain")
    result = await asyncio.to_thread(daemon.cli, "restart", "plain")
    assert result.returncode == 0 and result.stdout.strip() == "restarted plain (stopped, then started)"
    after = daemon.running("plain", other_than=before["pid"])
    assert after["program"] == "plain" and not Path(f"/proc/{before['pid']}").exists()


async def test_a_successor_that_cannot_start_leaves_the_old_process_serving(daemon: Daemon) -> None:
    port = free_port()
    # The successor's command fails at once: its slot goes FATAL, the serving one is untouched.
    flag = daemon.root / "broken"
    gate = f"import os, runpy, sys\nif os.path.exists({str(flag)!r}): sys.exit(3)\n"
    script = daemon.script("gate.py", gate + "runpy.run_module('servers.restream', run_name='__main__')\n")
    service = restream(port, start_retries=0)
    service["command"] = [sys.executable, str(script), "--port", "${port}", "--rate", "20"]
    await asyncio.to_thread(daemon.start, [service])
    before = daemon.running("restream")
    await (await wait_until_subscribed(port)).close()
    flag.touch()
    result = await asyncio.to_thread(daemon.cli, "restart", "restream")
    assert result.returncode == 1 and "the old process still serves" in result.stderr
    assert daemon.service("restream")["pid"] == before["pid"]
    ws = await subscribed(port)
    await ws.close()


def slots_running(daemon: Daemon) -> dict[str, int]:
    """The pid of each RUNNING slot of restream, as supervisord has them."""
    return {
        p.name: p.pid
        for p in control.client(daemon.state).processes()
        if p.name.startswith("restream@") and p.state == "RUNNING"
    }


async def test_a_standby_slot_serves_after_a_kill_9_and_takes_restarts(daemon: Daemon) -> None:
    """`standby: true`: both slots run, the one holding the lock serves; after a kill -9 of the
    pid status shows, the standby serves (no cold start) and the killed slot stands by again;
    `restart` hands over to the restarted standby with 1012."""
    port = free_port()
    await asyncio.to_thread(daemon.start, [restream(port, standby=True)])
    wait_for(lambda: len(slots_running(daemon)) == 2, 20, "both slots RUNNING")
    lock = daemon.state.root / "run" / "restream.lock"
    procfs = ProcFS()
    wait_for(
        lambda: all(procfs.holds_file(pid, lock) for pid in slots_running(daemon).values()), 20, "both on the lock"
    )
    ws = await wait_until_subscribed(port)
    serving = daemon.running("restream")
    assert procfs.listens(serving["pid"], port)
    standby = next(pid for name, pid in slots_running(daemon).items() if name != serving["program"])
    assert not procfs.listens(standby, port)

    os.kill(serving["pid"], signal.SIGKILL)
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), 10)
    ws = await wait_until_subscribed(port)
    now = daemon.running("restream", other_than=serving["pid"], timeout=10)
    assert now["pid"] == standby  # the standby, not a new process
    wait_for(lambda: len(slots_running(daemon)) == 2, 20, "the killed slot back, as the standby")

    code, out = await close_code_across(ws, daemon, "restart", "restream")
    assert code == 1012 and "to its standby pid" in out
    ws = await subscribed(port)
    after = daemon.running("restream", other_than=standby, timeout=10)
    assert after["pid"] not in (serving["pid"], standby) and procfs.listens(after["pid"], port)
    wait_for(lambda: len(slots_running(daemon)) == 2, 20, "both slots again after the restart")
    await ws.close()

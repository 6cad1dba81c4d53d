"""lib_common.client against real servers being restarted, killed and frozen: no duplicate, no
older quote after a newer one, no exception in the user's loop, and the quotes come back."""

from __future__ import annotations

import asyncio
import json
import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lib_common.client import Client, ClientEvent, LinkState, StateChanged
from lib_common.core.backoff import Backoff
from tests.processes import free_port
from tests.servers.conftest import ServerProcess, until
from tests.servers.redis.conftest import SHARED_REDIS
from tests.servers.redis.test_redis2ws_e2e import numsub, publish

pytestmark = [pytest.mark.asyncio, pytest.mark.timeout(90)]

SYMBOLS = ["AAPL", "MSFT"]


class Restartable:
    """One server on one port, started again on the same port after it is stopped or killed."""

    def __init__(self, tmp_path: Path, module: str, *args: str) -> None:
        self.tmp_path, self.module, self.args = tmp_path, module, list(args)
        self.port = free_port()
        self.runs: list[ServerProcess] = []
        self.start()

    @property
    def current(self) -> ServerProcess:
        return self.runs[-1]

    def url(self) -> str:
        return self.current.url("/ws", ws=True)

    def start(self) -> ServerProcess:
        log = self.tmp_path / f"{self.module}-{len(self.runs)}.log"
        self.runs.append(ServerProcess(self.args, self.port, log, module=self.module))
        return self.current

    def stop_all(self) -> None:
        for run in self.runs:
            if run.proc.poll() is None:
                run.proc.send_signal(signal.SIGCONT)
            run.stop()


@pytest.fixture
def restream(tmp_path: Path) -> Iterator[Restartable]:
    server = Restartable(tmp_path, "servers.restream", "--symbols", ",".join(SYMBOLS), "--rate", "20")
    yield server
    server.stop_all()


class Reader:
    """The user's loop: reads every quote a Client yields, in a task, checking as it goes."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.quotes: list[dict[str, Any]] = []
        self.arrived: list[float] = []
        self.task = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        async for quote in self.client:
            self.quotes.append(quote)
            self.arrived.append(time.monotonic())

    def since(self, t: float) -> int:
        return sum(1 for at in self.arrived if at >= t)

    async def finish(self) -> None:
        await self.client.close()
        await asyncio.wait_for(self.task, 10)  # re-raises whatever the user's loop would have seen

    def check_order(self, key: str = "") -> None:
        """Never the same quote twice, never an older quote of a symbol after a newer one."""
        seen: set[tuple[object, ...]] = set()
        last: dict[str, int] = {}
        for frame in self.quotes:
            quote = frame[key] if key else frame
            identity = (quote["symbol"], quote["ts_upstream"], quote.get("price"), quote.get("day_volume"))
            assert identity not in seen, f"duplicate {quote}"
            seen.add(identity)
            assert quote["ts_upstream"] >= last.get(quote["symbol"], 0), f"older {quote}"
            last[quote["symbol"]] = quote["ts_upstream"]


def closes(events: list[ClientEvent]) -> list[StateChanged]:
    return [e for e in events if isinstance(e, StateChanged) and e.state is LinkState.BACKOFF]


async def across(restream: Restartable, sig: signal.Signals, **options: Any) -> tuple[Reader, list[ClientEvent], float]:
    """Read, end the process with `sig`, start a new one on the port; seconds from the new
    one's health to its first quote at the client."""
    events: list[ClientEvent] = []
    client = Client(restream.url(), SYMBOLS, on_event=events.append, backoff=Backoff(0.1, 0.5), **options)
    async with client:
        reader = Reader(client)
        await until(lambda: len(reader.quotes) >= 10)
        restream.current.stop(sig)
        restream.start()  # returns once /health answers
        back = time.monotonic()
        await until(lambda: reader.since(back) >= 10, timeout=20)
        first = min(at for at in reader.arrived if at >= back)
        await reader.finish()
    reader.check_order()
    return reader, events, first - back


async def test_a_restart_is_a_pause_without_duplicates_or_older_quotes(restream: Restartable) -> None:
    reader, events, _ = await across(restream, signal.SIGTERM)
    assert [e.close_code for e in closes(events)][:1] == [1001]
    assert {q["symbol"] for q in reader.quotes} == set(SYMBOLS)
    assert reader.client.figures()["reconnects"] == 1


async def test_kill_9_is_a_pause_and_the_client_is_back_within_1_5_s_of_the_new_process(
    restream: Restartable,
) -> None:
    _, events, back_in = await across(restream, signal.SIGKILL)
    assert [e.close_code for e in closes(events)][:1] == [1006]  # no close frame
    assert back_in < 1.5


async def test_a_frozen_server_is_noticed_by_its_silence_and_rejoined_when_it_thaws(restream: Restartable) -> None:
    events: list[ClientEvent] = []
    options: dict[str, Any] = {"heartbeat_s": 0.3, "timeout_s": 1.0, "open_timeout_s": 1.0}
    async with Client(restream.url(), SYMBOLS, on_event=events.append, backoff=Backoff(0.1, 0.5), **options) as client:
        reader = Reader(client)
        await until(lambda: len(reader.quotes) >= 10)
        restream.current.proc.send_signal(signal.SIGSTOP)
        await until(lambda: bool(closes(events)), timeout=5)  # noticed while it is still frozen
        await asyncio.sleep(1.0)
        restream.current.proc.send_signal(signal.SIGCONT)
        thawed = time.monotonic()
        await until(lambda: reader.since(thawed) >= 10, timeout=20)
        await reader.finish()
    reader.check_order()
    assert closes(events)[0].reason.startswith("silent for 1.")
    assert client.figures()["reconnects"] >= 1


async def test_redis2ws_channels_deduplicated_and_resubscribed_after_a_kill(tmp_path: Path) -> None:
    bridge = Restartable(tmp_path, "servers.redis2ws", "--redis-url", SHARED_REDIS)
    channel = f"rsdev-test-{uuid.uuid4().hex[:10]}:quote:AAPL"

    def q(ts: int, price: float) -> dict[str, object]:
        return {"type": "quote", "symbol": "AAPL", "price": price, "ts_upstream": ts}

    try:
        async with Client(bridge.url(), channels=[channel], backoff=Backoff(0.1, 0.5)) as client:
            reader = Reader(client)
            await until(lambda: numsub(channel) == 1)
            for body in (q(100, 1.0), q(100, 1.0), q(99, 0.5), q(101, 1.1)):
                publish(channel, json.dumps(body))
            await until(lambda: len(reader.quotes) >= 2)
            bridge.current.stop(signal.SIGKILL)
            bridge.start()
            await until(lambda: numsub(channel) == 1 and client.state is LinkState.CONNECTED)
            publish(channel, json.dumps(q(101, 1.1)))  # seen already
            publish(channel, json.dumps(q(102, 1.2)))
            await until(lambda: len(reader.quotes) >= 3)
            await reader.finish()
    finally:
        bridge.stop_all()
    reader.check_order("data")
    assert [m["data"]["ts_upstream"] for m in reader.quotes] == [100, 101, 102]
    assert all(m["channel"] == channel for m in reader.quotes)


async def test_a_handover_is_one_reconnect_at_once_without_duplicates(tmp_path: Path) -> None:
    """A planned restart (docs/restarts.md): the successor listens beside the old process
    (`listen.reuse_port`), SIGHUP closes the old one's clients with 1012, and the client comes
    back to the successor at once (no backoff), in order, nothing twice."""
    config = tmp_path / "reuse.json5"
    config.write_text(json.dumps({"listen": {"reuse_port": True}}))
    restream = Restartable(tmp_path, "servers.restream", "--config", str(config), "--rate", "20")
    events: list[ClientEvent] = []
    try:
        client = Client(restream.url(), SYMBOLS, on_event=events.append)
        async with client:
            reader = Reader(client)
            await until(lambda: len(reader.quotes) >= 10)
            old = restream.current
            successor = restream.start()  # /health may answer from either: wait for its own start
            await until(lambda: b"Application startup complete" in successor.log.read_bytes())
            handed = time.monotonic()
            old.proc.send_signal(signal.SIGHUP)
            await until(lambda: reader.since(handed) >= 10, timeout=20)
            await reader.finish()
        reader.check_order()
        backoffs = closes(events)
        assert [e.close_code for e in backoffs][:1] == [1012] and backoffs[0].retry_in_s == 0
        assert old.proc.wait(15) == 0 and successor.proc.poll() is None
    finally:
        restream.stop_all()

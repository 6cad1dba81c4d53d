"""Dispatcher with a fake egress and a manual clock: no sockets."""

from __future__ import annotations

import json
from collections.abc import Callable

from lib_common.clock import ManualClock
from lib_common.core.dispatcher import Dispatcher
from lib_common.core.frame import Frame
from lib_common.core.memory_guard import MemoryGuard
from lib_common.core.quote import Quote
from lib_common.core.registry import Registry
from lib_common.core.session import ClientSession


class FakeEgress:
    """Records writes; can refuse them like a paused transport would."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    def messages(self) -> list[dict[str, object]]:
        return [json.loads(m) for m in split_frames(b"".join(self.writes))]


def split_frames(data: bytes) -> list[bytes]:
    out = []
    while data:
        n = data[1] & 0x7F
        start = 2
        if n == 126:
            n, start = int.from_bytes(data[2:4], "big"), 4
        elif n == 127:
            n, start = int.from_bytes(data[2:10], "big"), 10
        out.append(data[start : start + n])
        data = data[start + n :]
    return out


class NullUpstream:
    def subscribe(self, symbols: list[str]) -> None:
        pass

    def unsubscribe(self, symbols: list[str]) -> None:
        pass


class Harness:
    def __init__(self, budget: int = 1 << 20, stall: float = 10.0) -> None:
        self.clock = ManualClock()
        self.deferred: list[Callable[[], None]] = []
        self.registry: Registry[ClientSession] = Registry(NullUpstream(), self.clock, linger_s=0)
        self.guard = MemoryGuard(budget)
        self.dispatcher = Dispatcher(
            self.registry, self.guard, self.clock, defer=self.deferred.append, stall_timeout_s=stall
        )

    def client(self, symbols: list[str], priority: int = 0, capacity: int = 64) -> tuple[ClientSession, FakeEgress]:
        egress = FakeEgress()
        session = ClientSession(egress, priority=priority, queue_capacity=capacity)
        self.dispatcher.attach(session)
        self.registry.subscribe(session, symbols)
        return session, egress

    def publish(self, *quotes: Quote) -> None:
        self.dispatcher.publish(quotes)

    def tick(self) -> None:
        pending, self.deferred[:] = list(self.deferred), []
        for callback in pending:
            callback()

    def quote(self, symbol: str, price: float) -> Quote:
        now = self.clock.now_us()
        return Quote(symbol=symbol, ts_upstream=now - 1000, ts_library_in=now, price=price)


def test_frame_is_encoded_once_and_shared() -> None:
    h = Harness()
    _, a = h.client(["AAPL"])
    _, b = h.client(["AAPL"])
    h.publish(h.quote("AAPL", 1.0))
    h.tick()
    assert a.writes == b.writes
    assert a.writes[0] is b.writes[0]  # the very same bytes object


def test_one_write_per_client_per_tick_with_frames_kept_separate() -> None:
    h = Harness()
    _, a = h.client(["AAPL", "MSFT"])
    h.publish(h.quote("AAPL", 1.0), h.quote("MSFT", 2.0))
    h.publish(h.quote("AAPL", 1.5))
    h.tick()
    assert len(a.writes) == 1
    assert [(m["symbol"], m["price"]) for m in a.messages()] == [("AAPL", 1.0), ("MSFT", 2.0), ("AAPL", 1.5)]
    assert h.dispatcher.frames_out == 3 and h.dispatcher.frames_in == 3


def test_quote_carries_three_timestamps_in_order() -> None:
    h = Harness()
    _, a = h.client(["AAPL"])
    h.clock.advance(0.001)
    h.publish(Quote(symbol="AAPL", ts_upstream=h.clock.now_us() - 5000, ts_library_in=h.clock.now_us() - 10))
    h.tick()
    (m,) = a.messages()
    assert m["ts_upstream"] <= m["ts_library_in"] <= m["ts_library_out"]  # type: ignore[operator]
    assert "price" not in m  # absent fields are left out, not invented


def test_unsubscribed_client_gets_nothing() -> None:
    h = Harness()
    _, a = h.client(["MSFT"])
    h.publish(h.quote("AAPL", 1.0))
    h.tick()
    assert a.writes == []


def test_paused_client_queues_conflates_and_drains_in_order() -> None:
    h = Harness()
    slow, s = h.client(["AAPL", "MSFT"], capacity=2)
    _, fast = h.client(["AAPL", "MSFT"])
    h.dispatcher.writable(slow, False)
    for price in (1.0, 2.0, 3.0):
        h.publish(h.quote("AAPL", price))
    h.publish(h.quote("MSFT", 9.0))
    h.tick()
    assert s.writes == []
    assert len(fast.messages()) == 4  # the slow one delays nobody
    assert h.guard.used == slow.queue.nbytes > 0
    assert h.dispatcher.conflated == 2
    h.dispatcher.writable(slow, True)
    assert [(m["symbol"], m["price"]) for m in s.messages()] == [("AAPL", 3.0), ("MSFT", 9.0)]
    assert h.guard.used == 0 and not slow.backlogged


def test_a_batch_conflates_ahead_only_for_clients_whose_queue_is_full() -> None:
    """Within one batch, a frame that a newer frame of its symbol follows is not pushed into a
    full queue (the push after it would replace it anyway); a paused client with room, and a
    writable one, get every frame."""
    h = Harness()
    full, f = h.client(["AAPL", "MSFT"], capacity=2)
    roomy, r = h.client(["AAPL", "MSFT"], capacity=64)
    _, fast = h.client(["AAPL", "MSFT"])
    h.dispatcher.writable(full, False)
    h.dispatcher.writable(roomy, False)
    h.publish(h.quote("AAPL", 0.5), h.quote("MSFT", 8.0))  # fills `full`
    assert full.queue.full and h.dispatcher.conflated == 0
    h.publish(h.quote("AAPL", 1.0), h.quote("MSFT", 9.0), h.quote("AAPL", 2.0), h.quote("AAPL", 3.0))
    h.tick()
    assert h.dispatcher.conflated == 4  # AAPL 1.0, 2.0 ahead; then MSFT 9.0, AAPL 3.0 replaced
    assert len(fast.messages()) == 6
    h.dispatcher.writable(full, True)
    h.dispatcher.writable(roomy, True)
    assert [(m["symbol"], m["price"]) for m in f.messages()] == [("AAPL", 3.0), ("MSFT", 9.0)]
    assert [m["price"] for m in r.messages()] == [0.5, 8.0, 1.0, 9.0, 2.0, 3.0]
    assert h.guard.used == 0


def test_pending_frames_are_written_before_queued_ones() -> None:
    h = Harness()
    session, egress = h.client(["AAPL"])
    h.publish(h.quote("AAPL", 1.0))  # pending for the flush
    h.dispatcher.writable(session, False)  # paused before the flush ran
    h.publish(h.quote("AAPL", 2.0))  # queued
    h.dispatcher.writable(session, True)
    h.tick()
    assert [m["price"] for m in egress.messages()] == [1.0, 2.0]


def test_over_budget_evicts_lowest_priority_largest_backlog() -> None:
    size = Frame.quote(Harness().quote("AAPL", 0.0), 0).size
    h = Harness(budget=8 * size)  # room for one client's six frames, not for two
    important, i_egress = h.client(["AAPL"], priority=10, capacity=100)
    cheap, c_egress = h.client(["AAPL"], priority=0, capacity=100)
    for session in (important, cheap):
        h.dispatcher.writable(session, False)
    for n in range(6):
        h.publish(h.quote("AAPL", float(n)))
    assert c_egress.closed == (1013, "slow consumer")
    assert i_egress.closed is None
    assert h.dispatcher.evicted == 1
    assert h.guard.used <= 8 * size
    assert h.registry.subscribers("AAPL") == {important}


def test_stalled_client_is_evicted_after_stall_timeout() -> None:
    h = Harness(stall=10)
    session, egress = h.client(["AAPL"])
    h.dispatcher.writable(session, False)
    h.clock.advance(9)
    assert h.dispatcher.sweep() == 0
    h.clock.advance(1)
    assert h.dispatcher.sweep() == 1
    assert egress.closed == (1013, "slow consumer")
    assert session not in h.dispatcher.sessions


def test_resumed_client_is_not_evicted() -> None:
    h = Harness(stall=10)
    session, egress = h.client(["AAPL"])
    h.dispatcher.writable(session, False)
    h.clock.advance(9)
    h.dispatcher.writable(session, True)
    h.clock.advance(5)
    assert h.dispatcher.sweep() == 0 and egress.closed is None


def test_queue_overflow_evicts() -> None:
    h = Harness()
    session, egress = h.client(["A", "B", "C"], capacity=2)
    h.dispatcher.writable(session, False)
    h.publish(h.quote("A", 1), h.quote("B", 1), h.quote("C", 1))
    assert egress.closed == (1013, "slow consumer")


def test_control_frames_keep_order_with_quotes() -> None:
    h = Harness()
    session, egress = h.client(["AAPL"])
    h.publish(h.quote("AAPL", 1.0))
    h.dispatcher.send(session, Frame.control({"type": "pong"}))
    h.publish(h.quote("AAPL", 2.0))
    h.tick()
    assert [m["type"] for m in egress.messages()] == ["quote", "pong", "quote"]


def test_detach_releases_guard_and_registry() -> None:
    h = Harness()
    session, _ = h.client(["AAPL"])
    h.dispatcher.writable(session, False)
    h.publish(h.quote("AAPL", 1.0))
    h.dispatcher.detach(session)
    h.dispatcher.detach(session)
    assert h.guard.used == 0 and len(h.guard) == 0
    assert h.registry.subscribers("AAPL") is None


def test_latest_frame_kept_for_snapshots_and_forgotten() -> None:
    h = Harness()
    h.publish(h.quote("AAPL", 1.0), h.quote("AAPL", 2.0))
    assert json.loads(h.dispatcher.latest["AAPL"].payload)["price"] == 2.0
    h.dispatcher.forget(["AAPL"])
    assert "AAPL" not in h.dispatcher.latest

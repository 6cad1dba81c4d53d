from __future__ import annotations

import pytest

from lib_common.clock import ManualClock
from lib_common.core.registry import Registry


class Upstream:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def subscribe(self, symbols: list[str]) -> None:
        self.calls.append(("subscribe", symbols))

    def unsubscribe(self, symbols: list[str]) -> None:
        self.calls.append(("unsubscribe", symbols))


def make(linger: float = 30.0) -> tuple[Registry[str], Upstream, ManualClock]:
    upstream, clock = Upstream(), ManualClock()
    registry: Registry[str] = Registry(upstream, clock, linger_s=linger)
    registry.open("a")
    registry.open("b")
    return registry, upstream, clock


def test_first_subscriber_acquires_upstream_once() -> None:
    registry, upstream, _ = make()
    assert registry.subscribe("a", ["AAPL", "MSFT"]) == ["AAPL", "MSFT"]
    assert registry.subscribe("b", ["AAPL"]) == ["AAPL"]
    assert upstream.calls == [("subscribe", ["AAPL", "MSFT"])]
    assert registry.subscribers("AAPL") == {"a", "b"}


def test_last_release_unsubscribes_after_linger() -> None:
    registry, upstream, clock = make(linger=30)
    registry.subscribe("a", ["AAPL"])
    registry.unsubscribe("a", ["AAPL"])
    assert registry.lingering == ["AAPL"]
    clock.advance(29.9)
    assert upstream.calls == [("subscribe", ["AAPL"])]
    clock.advance(0.2)
    assert upstream.calls[-1] == ("unsubscribe", ["AAPL"])
    assert registry.lingering == [] and registry.upstream_unsubscribes == 1


def test_resubscribe_within_linger_costs_no_upstream_traffic() -> None:
    registry, upstream, clock = make(linger=30)
    registry.subscribe("a", ["AAPL"])
    registry.unsubscribe("a", ["AAPL"])
    clock.advance(10)
    registry.subscribe("b", ["AAPL"])
    clock.advance(100)
    assert upstream.calls == [("subscribe", ["AAPL"])]
    assert clock.pending_timers == 0


def test_zero_linger_unsubscribes_at_once() -> None:
    registry, upstream, _ = make(linger=0)
    registry.subscribe("a", ["AAPL"])
    registry.close("a")
    assert upstream.calls == [("subscribe", ["AAPL"]), ("unsubscribe", ["AAPL"])]


def test_close_releases_everything_and_is_idempotent() -> None:
    registry, _, _ = make()
    registry.subscribe("a", ["AAPL", "MSFT"])
    registry.close("a")
    registry.close("a")
    assert registry.active == [] and registry.lingering == ["AAPL", "MSFT"]
    assert registry.sessions == 1


def test_unknown_session_is_an_error() -> None:
    registry, _, _ = make()
    with pytest.raises(KeyError, match="not open"):
        registry.subscribe("zzz", ["AAPL"])


def test_unsubscribe_of_unheld_symbol_is_ignored() -> None:
    registry, upstream, _ = make()
    assert registry.unsubscribe("a", ["AAPL"]) == []
    assert upstream.calls == []


def churn(registry: Registry[str], session: str, rounds: int, per_round: int, limit: int | None) -> None:
    """What the issue 13 #3 client did: subscribe a fresh batch, let it go, again and again."""
    for r in range(rounds):
        batch = [f"S{r}-{i}" for i in range(per_round)]
        registry.subscribe(session, batch, limit=limit)
        registry.unsubscribe(session, batch)


def test_symbols_a_session_left_lingering_count_toward_its_limit() -> None:
    registry, upstream, _ = make(linger=30)
    churn(registry, "a", rounds=111, per_round=100, limit=500)  # 11,100 symbols, as in the attack
    assert registry.charged("a") == 500  # what it holds (none) and what it left lingering
    assert len(registry.lingering) == 500
    subscribed = sum(len(s) for op, s in upstream.calls if op == "subscribe")
    unsubscribed = sum(len(s) for op, s in upstream.calls if op == "unsubscribe")
    assert subscribed - unsubscribed == 500  # upstream quotes what the limit allows, no more
    assert registry.lingering_evicted == 11_100 - 500


def test_making_room_releases_the_sessions_own_oldest_lingering_first() -> None:
    registry, upstream, _ = make(linger=30)
    registry.subscribe("b", ["B1"])
    registry.unsubscribe("b", ["B1"])  # b's: untouched by a's room-making
    registry.subscribe("a", ["A1", "A2", "A3"], limit=3)
    registry.unsubscribe("a", ["A1", "A2"])
    registry.subscribe("a", ["A4"], limit=3)  # holds A3, A4; A1 and A2 lingering: one must go
    assert upstream.calls[-1] == ("unsubscribe", ["A1"])
    assert registry.lingering == ["A2", "B1"] and registry.charged("a") == 3


def test_a_resubscribed_lingering_symbol_is_no_longer_charged_twice() -> None:
    registry, upstream, _ = make(linger=30)
    registry.subscribe("a", ["AAPL", "MSFT"], limit=2)
    registry.unsubscribe("a", ["AAPL"])
    assert registry.charged("a") == 2
    registry.subscribe("a", ["AAPL"], limit=2)  # back within the linger: free, and charged once
    assert registry.charged("a") == 2 and registry.lingering == []
    assert upstream.calls == [("subscribe", ["AAPL", "MSFT"])]


def test_a_closed_sessions_symbols_linger_uncharged_within_the_global_bound() -> None:
    upstream, clock = Upstream(), ManualClock()
    registry: Registry[str] = Registry(upstream, clock, linger_s=30, max_lingering=150)
    for n in range(4):  # a client reconnecting with 100 new symbols each time
        registry.open(f"c{n}")
        registry.subscribe(f"c{n}", [f"S{n}-{i}" for i in range(100)], limit=500)
        registry.close(f"c{n}")
        assert registry.charged(f"c{n}") == 0
    rounds = [sum(s.startswith(f"S{n}-") for s in registry.lingering) for n in range(4)]
    assert rounds == [0, 0, 50, 100]  # the oldest went first
    clock.advance(30.1)
    assert registry.lingering == [] and registry.upstream_unsubscribes == 400


def test_expiry_discharges_the_session() -> None:
    registry, _, clock = make(linger=30)
    registry.subscribe("a", ["AAPL"], limit=5)
    registry.unsubscribe("a", ["AAPL"])
    clock.advance(30.1)
    assert registry.charged("a") == 0

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

"""server_speak's rules and speech queue, fed by hand."""

from __future__ import annotations

import pytest

from lib_common.core.quote import Quote
from lib_common.errors import ConfigError
from servers.server_speak.config import parse_config
from servers.server_speak.rules import Alert, Direction, PercentMove, PriceCross, Priority, RatingChange
from servers.server_speak.speech_queue import Offer, SpeechQueue

S = 1_000_000


def q(symbol: str, price: float, ts_s: float = 0, **extra: str) -> Quote:
    ts = int(ts_s * S)
    return Quote(symbol, ts_upstream=ts, ts_library_in=ts, price=price, extra=tuple(extra.items()))


def test_price_cross_fires_on_crossing_in_its_direction() -> None:
    rule = PriceCross("AAPL", 200.0, Direction.UP)
    assert [rule.evaluate(q("AAPL", p)) for p in (199.0, 199.5, 200.0, 201.0, 199.0, 202.0)] == [
        [],
        [],
        [Alert("AAPL crossed above 200, now 200.00")],
        [],
        [],
        [Alert("AAPL crossed above 200, now 202.00")],
    ]
    assert rule.evaluate(q("MSFT", 100.0)) == []
    down = PriceCross("BTC-USD", 100.0, Direction.DOWN, Priority.HIGH)
    assert down.evaluate(q("BTC-USD", 101)) == [] and down.evaluate(q("BTC-USD", 105)) == []
    assert down.evaluate(q("BTC-USD", 99)) == [Alert("BTC USD crossed below 100, now 99.00", Priority.HIGH)]


def test_percent_move_within_window_speaks_once_per_move() -> None:
    rule = PercentMove("AAPL", 2.0, window_s=60)
    assert rule.evaluate(q("AAPL", 100.0, 0)) == []
    assert rule.evaluate(q("AAPL", 101.0, 30)) == []
    assert rule.evaluate(q("AAPL", 102.5, 50)) == [Alert("AAPL up 2.5 percent in 60 seconds, now 102.50")]
    assert rule.evaluate(q("AAPL", 103.0, 55)) == []  # the window restarted at the alert
    # A slow drift outside the window is no move.
    slow = PercentMove("X", 1.0, window_s=10)
    assert [slow.evaluate(q("X", 100.0 - 0.6 * i, 8 * i)) for i in range(4)] == [[], [], [], []]


def test_rating_change() -> None:
    rule = RatingChange()
    assert rule.evaluate(q("FEAR-GREED", 45.0, rating="neutral")) == []
    assert rule.evaluate(q("FEAR-GREED", 46.0, rating="neutral")) == []
    assert rule.evaluate(q("FEAR-GREED", 56.0, rating="greed")) == [
        Alert("Fear and greed changed from neutral to greed, score 56")
    ]


def test_queue_rate_limit_priority_and_dedup() -> None:
    queue = SpeechQueue(min_gap_s=2.0, dedup_s=10.0, capacity=2)
    assert queue.offer(Alert("a"), 0.0) is Offer.QUEUED
    assert queue.offer(Alert("a"), 5.0) is Offer.DUPLICATE
    assert queue.offer(Alert("b", Priority.HIGH), 5.0) is Offer.QUEUED
    assert queue.offer(Alert("c", Priority.LOW), 5.0) is Offer.FULL
    assert queue.take(5.0) == Alert("b", Priority.HIGH)
    assert queue.take(6.0) is None and queue.wait_s(6.0) == 1.0
    assert queue.take(7.0) == Alert("a")
    assert queue.wait_s(8.0) is None
    assert queue.offer(Alert("a"), 10.5) is Offer.QUEUED  # past the de-duplication window


def test_full_queue_makes_room_for_higher_priority() -> None:
    queue = SpeechQueue(min_gap_s=0, dedup_s=0, capacity=1)
    queue.offer(Alert("low", Priority.LOW), 0)
    assert queue.offer(Alert("urgent", Priority.HIGH), 0) is Offer.QUEUED
    assert queue.take(0) == Alert("urgent", Priority.HIGH) and len(queue) == 0


def test_config_reads_rules_and_reports_where() -> None:
    config = parse_config(
        """{
          sources: {restream_url: "ws://127.0.0.1:8765/ws"},
          rules: [
            {kind: "price_cross", symbol: "aapl", level: 190, direction: "down", priority: "high"},
            {kind: "percent_move", symbol: "BTC-USD", percent: 2, window_s: 300},
            {kind: "rating_change"},
            {kind: "monitor", events: ["outage_start"]},
          ],
        }"""
    )
    assert config.rules[0] == PriceCross("AAPL", 190.0, Direction.DOWN, Priority.HIGH)
    assert config.rule_symbols() == ["AAPL", "BTC-USD", "FEAR-GREED"]
    assert config.monitor_events == frozenset({"outage_start"})
    with pytest.raises(ConfigError, match=r"rules\[0\]\.direction: expected up, down or any"):
        parse_config('{rules: [{kind: "price_cross", symbol: "A", level: 1, direction: "sideways"}]}')
    with pytest.raises(ConfigError, match=r"rules\[0\]\.kind: expected one of"):
        parse_config('{rules: [{kind: "moon"}]}')

"""server_speak's rules and speech queue, fed by hand."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_common.core.quote import Quote
from lib_common.errors import ConfigError
from servers.server_speak.config import parse_config
from servers.server_speak.prune import PruneConfig, WavFile, prune_dir, prune_plan
from servers.server_speak.rules import Alert, Direction, PercentMove, PriceCross, Priority, RatingChange, RuleSet
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


def test_price_cross_hysteresis_speaks_once_while_the_price_hovers() -> None:
    rule = PriceCross("AAPL", 200.0, band=0.5)
    prices = (199.9, 200.1, 199.95, 200.05, 199.9, 200.2, 200.4)  # around the level, within the band
    fired = [alert for p in prices for alert in rule.evaluate(q("AAPL", p))]
    assert fired == [Alert("AAPL crossed above 200, now 200.10")]
    assert rule.evaluate(q("AAPL", 200.6)) == []  # 0.5 away: armed again
    assert rule.evaluate(q("AAPL", 199.8)) == [Alert("AAPL crossed below 200, now 199.80")]
    # A leap across the band is a move of its own: the rule stays armed.
    assert rule.evaluate(q("AAPL", 201.0)) == [Alert("AAPL crossed above 200, now 201.00")]
    assert rule.evaluate(q("AAPL", 199.0)) == [Alert("AAPL crossed below 200, now 199.00")]
    assert PriceCross("AAPL", 200.0).rearm_band == pytest.approx(0.2)  # default: 0.1 % of the level


def test_rule_cooldown_drops_what_fires_too_soon() -> None:
    rules = RuleSet([PriceCross("AAPL", 200.0, band=0.0, cooldown_s=60), RatingChange()])

    def fire(price: float, ts_s: float) -> list[Alert]:
        return rules.evaluate(q("AAPL", price, ts_s))

    assert fire(199, 0) == []
    assert len(fire(201, 1)) == 1
    assert fire(199, 2) == [] and fire(201, 30) == []  # crossings inside the cooldown
    assert len(fire(199, 61.5)) == 1
    assert rules.fired == 2 and rules.cooled == 2


def test_config_reads_band_and_cooldown() -> None:
    config = parse_config(
        '{rules: [{kind: "price_cross", symbol: "aapl", level: 200, band: 1.5, cooldown_s: 300},'
        ' {kind: "percent_move", symbol: "BTC-USD", percent: 2, window_s: 60, cooldown_s: 10}],'
        " prune: {max_age_s: 3600, max_bytes: 1000}}"
    )
    cross, move = config.rules
    assert isinstance(cross, PriceCross) and cross.band == 1.5 and cross.cooldown_s == 300
    assert move.cooldown_s == 10
    assert config.prune == PruneConfig(3600.0, 1000)
    with pytest.raises(ConfigError) as caught:
        parse_config('{rules: [{kind: "price_cross", symbol: "X", level: 1, band: -1}], prune: {max_bytes: -5}}')
    assert "band" in str(caught.value) and "prune.max_bytes" in str(caught.value)


def test_prune_plan_by_age_then_total_size() -> None:
    day = 86_400.0
    files = [
        WavFile("old.wav", 0.0, 10),
        WavFile("a.wav", 9 * day, 40),
        WavFile("b.wav", 9.5 * day, 40),
        WavFile("c.wav", 9.9 * day, 40),
    ]
    config = PruneConfig(max_age_s=7 * day, max_bytes=100)
    assert prune_plan(files, 10 * day, config) == ["old.wav", "a.wav"]
    assert prune_plan(files, 10 * day, PruneConfig(max_age_s=30 * day, max_bytes=1000)) == []


def test_prune_dir_spares_the_file_just_written(tmp_path: Path) -> None:
    import os

    for n, name in enumerate(("x.wav", "y.wav", "z.wav")):
        path = tmp_path / name
        path.write_bytes(b"\0" * 100)
        os.utime(path, (1000.0 + n, 1000.0 + n))
    (tmp_path / "notes.txt").write_text("not a wav")
    removed = prune_dir(tmp_path, 2000.0, PruneConfig(max_age_s=10.0, max_bytes=0), keep=[tmp_path / "z.wav"])
    assert removed == ["x.wav", "y.wav"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt", "z.wav"]

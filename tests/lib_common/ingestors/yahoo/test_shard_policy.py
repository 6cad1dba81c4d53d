"""ShardPolicy fed events by hand, with a ManualClock: no sockets, no sleeps."""

from __future__ import annotations

import logging

import pytest

from lib_common.clock import ManualClock
from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import LinkState
from lib_common.ingestors.yahoo.shard_policy import (
    Connect,
    Drop,
    ReconnectAfter,
    ShardPolicy,
    ShardState,
    Stop,
    Subscribe,
)

Made = tuple[ShardPolicy, ManualClock, list[str]]


def make(symbols: list[str] | None = None, inactivity_s: float | None = 30.0) -> Made:
    clock = ManualClock()
    wanted = ["AAPL", "MSFT"] if symbols is None else symbols
    policy = ShardPolicy(
        0,
        lambda: list(wanted),
        monotonic=clock.monotonic,
        inactivity_s=inactivity_s,
        backoff=Backoff(base_s=1.0, cap_s=8.0, jitter=0.0),
    )
    return policy, clock, wanted


def test_connect_then_subscribe_the_whole_set_then_receive() -> None:
    p, clock, _ = make()
    assert p.start() == Connect() and p.state is ShardState.CONNECTING and not p.connected
    assert p.connect_succeeded() == Subscribe(("AAPL", "MSFT"))
    assert p.state is ShardState.SUBSCRIBED and p.connected and not p.receiving
    assert p.link.state is LinkState.CONNECTING, "the link counts as up once data flows"
    clock.advance(1)
    p.frame()
    assert p.state is ShardState.RECEIVING and p.receiving and p.link.state is LinkState.CONNECTED
    assert p.connects == 1 and p.heard_at() == 1.0


def test_a_failed_connect_backs_off_exponentially_and_retries() -> None:
    p, clock, _ = make()
    p.start()
    delays = []
    for _ in range(4):
        decision = p.connect_failed(OSError("refused"))
        assert isinstance(decision, ReconnectAfter) and p.state is ShardState.BACKOFF
        delays.append(decision.delay_s)
        clock.advance(decision.delay_s)
        assert p.waited() == Connect()
    assert delays == [1.0, 2.0, 4.0, 8.0]
    assert p.drops == {"connect": 4} and p.last_error == "connect: refused"
    assert p.link.outages == 1 and p.link.errors == 4


def test_downtime_runs_from_the_drop_across_failed_retries() -> None:
    p, clock, _ = make()
    p.start()
    p.connect_succeeded()
    p.frame()
    clock.advance(5)
    p.closed("closed: 1006")
    assert p.down_at == 5.0
    for _ in range(3):
        clock.advance(1)
        p.waited()
        p.connect_failed("refused")
    assert p.down_at == 5.0, "a failed retry does not restart the outage"


def test_silence_past_the_deadline_drops_and_reconnects() -> None:
    p, clock, _ = make(inactivity_s=10)
    p.start()
    p.connect_succeeded()
    assert p.deadline() == 10.0
    clock.advance(4)
    p.frame()
    assert p.deadline() == 14.0, "each frame moves the deadline"
    clock.advance(9)
    assert p.deadline_reached() is None, "not yet: the deadline is at 14"
    clock.advance(1)
    drop = p.deadline_reached()
    assert drop == Drop("inactive: no frame for 10s", silent_since=4.0)
    decision = p.closed(drop.reason)
    assert isinstance(decision, ReconnectAfter) and p.drops == {"inactive": 1}


def test_no_inactivity_timeout_means_no_deadline() -> None:
    p, clock, _ = make(inactivity_s=None)
    p.start()
    p.connect_succeeded()
    clock.advance(3600)
    assert p.deadline() is None and p.deadline_reached() is None
    p.inactivity_s = 30  # the market opened: the deadline counts from the last frame or the connect
    assert p.deadline() == 30.0 and p.deadline_reached() == Drop("inactive: no frame for 30s", silent_since=0.0)


def test_backoff_resets_only_once_data_flows() -> None:
    """An upstream that accepts every handshake and stays mute is one outage with growing delays."""
    p, clock, _ = make(inactivity_s=1)
    p.start()
    delays = []
    for _ in range(3):
        p.connect_succeeded()
        clock.advance(1)
        decision = p.closed(p.deadline_reached().reason)  # type: ignore[union-attr]
        assert isinstance(decision, ReconnectAfter)
        delays.append(decision.delay_s)
        p.waited()
    assert delays == [1.0, 2.0, 4.0] and p.link.outages == 1
    p.connect_succeeded()
    p.frame()
    assert p.link.last_outage is not None and p.link.last_outage.errors == 3
    p.closed("closed: 1000")
    clock.advance(1)
    assert p.waited() == Connect()
    p.connect_failed("refused")
    assert p.link.backoff.attempts == 2, "the delay started again from the shortest"


def test_no_symbols_left_stops_instead_of_retrying() -> None:
    p, _, wanted = make()
    p.start()
    p.connect_succeeded()
    wanted.clear()
    assert p.closed("closed: 1000") == Stop() and p.state is ShardState.IDLE
    assert p.drops == {"closed": 1} and p.link.errors == 0


def test_symbols_gone_during_the_backoff_stop_at_its_end() -> None:
    p, _, wanted = make()
    p.start()
    p.connect_failed("refused")
    wanted.clear()
    assert p.waited() == Stop()


def test_start_without_symbols_stops_and_a_restart_looks_fresh() -> None:
    p, clock, wanted = make([])
    assert p.start() == Stop()
    wanted.append("AAPL")
    clock.advance(50)
    assert p.start() == Connect()
    assert p.since == 50.0 and p.heard_at() == 50.0 and p.last_message is None


def test_events_out_of_order_are_refused_with_the_state_found() -> None:
    p, _, _ = make()
    with pytest.raises(RuntimeError, match="connect_succeeded while idle, expected connecting"):
        p.connect_succeeded()


def test_the_first_failure_is_logged_then_summarised(caplog: pytest.LogCaptureFixture) -> None:
    p, clock, _ = make()
    caplog.set_level(logging.DEBUG, logger="lib_common.ingestors.yahoo.shard_policy")
    p.start()
    for _ in range(5):
        decision = p.connect_failed("refused")
        assert isinstance(decision, ReconnectAfter)
        clock.advance(decision.delay_s)
        p.waited()
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["yahoo shard 0: connect: refused (retrying with backoff; further failures summarised)"]


def test_every_transition_is_reported() -> None:
    clock = ManualClock()
    changes: list[ShardState] = []
    holder: list[ShardPolicy] = []
    p = ShardPolicy(0, lambda: ["A"], monotonic=clock.monotonic, on_change=lambda: changes.append(holder[0].state))
    holder.append(p)
    p.start()
    p.connect_succeeded()
    p.frame()
    p.frame()
    p.closed("closed: 1000")
    assert changes == [ShardState.CONNECTING, ShardState.SUBSCRIBED, ShardState.RECEIVING, ShardState.BACKOFF]

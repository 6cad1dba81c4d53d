"""The shared reconnect policy, driven by a hand-moved clock and a fixed random source."""

from __future__ import annotations

import logging

import pytest

from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import LinkState, Outage, Reconnect


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def policy(clock: Clock, **kw: object) -> Reconnect:
    backoff = Backoff(base_s=1.0, cap_s=8.0, jitter=0.0)
    return Reconnect("link", monotonic=clock, backoff=backoff, **kw)  # type: ignore[arg-type]


def test_a_clean_first_connect_logs_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    r = policy(Clock())
    r.connecting()
    r.connected()
    assert r.state is LinkState.CONNECTED
    assert r.connects == 1 and r.reconnects == 0 and r.outages == 0
    assert not [rec for rec in caplog.records if rec.levelno >= logging.WARNING]


def test_backoff_doubles_to_its_cap_and_starts_over_after_a_connect() -> None:
    r = policy(Clock())
    assert [r.failed("refused") for _ in range(5)] == [1.0, 2.0, 4.0, 8.0, 8.0]
    assert r.state is LinkState.BACKOFF
    r.connected()
    assert r.failed("dropped") == 1.0


def test_an_outage_is_logged_once_then_summarised_then_its_recovery_with_the_duration(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    clock = Clock()
    r = policy(clock, summary_every_s=60.0)
    r.connected()
    caplog.clear()
    for _ in range(30):  # 30 failures over 145 s
        r.failed(ConnectionRefusedError("connection refused"))
        clock.t += 5.0
    warnings = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
    assert (
        warnings[0]
        == "link: ConnectionRefusedError: connection refused (retrying with backoff; further failures summarised)"
    )
    assert len(warnings) == 3  # the first failure, then a summary at 60 s and at 120 s
    assert warnings[1].startswith("link: still down after 60 s (12 failures in the last 60 s")
    caplog.clear()
    r.connected()
    (recovered,) = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.WARNING]
    assert recovered.startswith("link: recovered after 150.0 s down (30 failures; first: ConnectionRefusedError")
    assert r.last_outage == Outage(100.0, 250.0, 30, "ConnectionRefusedError: connection refused")
    assert r.outages == 1 and r.errors == 30 and r.reconnects == 1


def test_outage_callbacks_fire_once_at_start_and_once_at_end() -> None:
    clock = Clock()
    seen: list[tuple[str, Outage | None]] = []
    r = policy(clock, on_outage=lambda name, outage: seen.append((name, outage)))
    r.connected()
    r.failed("a")
    clock.t += 3
    r.failed("b")
    r.connected()
    assert [o is None for _, o in seen] == [True, False]
    end = seen[1][1]
    assert end is not None and end.duration_s == 3.0 and end.errors == 2


def test_state_transitions_are_logged_and_retry_churn_is_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    r = policy(Clock())
    r.connecting()
    r.failed("x")
    r.connecting()
    r.failed("y")
    info = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.INFO]
    assert info == ["link idle -> connecting (connecting)"]
    debug = [rec.getMessage() for rec in caplog.records if rec.levelno == logging.DEBUG]
    assert "link backoff -> connecting (connecting)" in debug


def test_newlines_in_an_error_cannot_forge_log_lines() -> None:
    r = policy(Clock())
    r.failed(OSError("boom\nFAKE LINE"))
    assert r.last_error == "OSError: boom\\nFAKE LINE"


def test_figures_say_where_it_stands() -> None:
    clock = Clock()
    r = policy(clock)
    r.connected()
    r.failed("gone")
    clock.t += 2.5
    figures = r.figures()
    assert figures["state"] == "backoff" and figures["connected"] is False
    assert figures["down_s"] == 2.5 and figures["last_error"] == "gone" and figures["outages"] == 1
    r.stopped()
    assert r.state is LinkState.IDLE

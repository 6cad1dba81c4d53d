"""Silent-connection detection on a hand-moved clock: ping after the heartbeat, dead after the
timeout, any frame or pong (or frames waiting unread) a sign of life."""

from __future__ import annotations

import pytest

from lib_common.client.liveness import Liveness
from lib_common.clock import ManualClock


def test_a_silent_connection_is_pinged_once_then_declared_dead() -> None:
    clock = ManualClock()
    live = Liveness(heartbeat_s=5, timeout_s=10, now=clock.monotonic())
    check = live.check(clock.monotonic(), 0)
    assert not check.ping and not check.dead and check.next_in_s == 5
    clock.advance(5)
    check = live.check(clock.monotonic(), 0)
    assert check.ping and not check.dead and check.next_in_s == 5
    clock.advance(3)
    check = live.check(clock.monotonic(), 0)
    assert not check.ping and not check.dead and check.next_in_s == 2  # one ping out is enough
    clock.advance(2)
    check = live.check(clock.monotonic(), 0)
    assert check.dead and check.silence_s == 10


def test_a_pong_is_a_sign_of_life_and_the_next_ping_waits_a_heartbeat() -> None:
    clock = ManualClock()
    live = Liveness(heartbeat_s=5, timeout_s=10, now=clock.monotonic())
    clock.advance(5)
    assert live.check(clock.monotonic(), 0).ping
    clock.advance(1)
    live.heard(clock.monotonic())
    clock.advance(4)
    check = live.check(clock.monotonic(), 0)
    assert not check.ping and check.next_in_s == 1
    clock.advance(1)
    assert live.check(clock.monotonic(), 0).ping


def test_frames_read_since_the_last_check_keep_it_alive_without_pings() -> None:
    clock = ManualClock()
    live = Liveness(heartbeat_s=5, timeout_s=10, now=clock.monotonic())
    for frames in range(1, 10):
        clock.advance(5)
        check = live.check(clock.monotonic(), frames)
        assert not check.ping and not check.dead


def test_frames_waiting_for_a_busy_reader_keep_it_alive() -> None:
    clock = ManualClock()
    live = Liveness(heartbeat_s=5, timeout_s=10, now=clock.monotonic())
    for _ in range(5):
        clock.advance(6)
        assert not live.check(clock.monotonic(), 0, backlog=True).dead
    clock.advance(10)
    assert live.check(clock.monotonic(), 0, backlog=False).dead


@pytest.mark.parametrize(("heartbeat", "timeout"), [(0, 1), (5, 5), (6, 5)])
def test_the_heartbeat_comes_before_the_timeout(heartbeat: float, timeout: float) -> None:
    with pytest.raises(ValueError, match="heartbeat_s < timeout_s"):
        Liveness(heartbeat_s=heartbeat, timeout_s=timeout, now=0)

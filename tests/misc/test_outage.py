"""The outage policy, fed checks by hand: no sockets, no sleeping."""

from __future__ import annotations

import pytest

from rsdev_misc.outage import LatencyWindow, NetState, OutageDetector

S = 1_000_000


def feed(detector: OutageDetector, checks: str, start_s: int = 0) -> list[tuple[int, str, str]]:
    """`checks`: one character per check, x = every target failed, . = some answered."""
    out = []
    for i, c in enumerate(checks):
        for t in detector.observe(c == "x", (start_s + i) * S):
            out.append((t.at_us // S, t.before.value, t.after.value))
    return out


def test_outage_needs_n_all_failed_checks_in_a_row() -> None:
    detector = OutageDetector(fail_after=3, recover_after=2)
    assert feed(detector, "xx.xx.") == [
        (0, "up", "failing"),
        (2, "failing", "up"),
        (3, "up", "failing"),
        (5, "failing", "up"),
    ]
    assert detector.state is NetState.UP and detector.outages == 0


def test_outage_start_and_end_with_duration() -> None:
    detector = OutageDetector(fail_after=3, recover_after=2)
    transitions = []
    for i, c in enumerate(".xxxx.x..."):
        transitions += detector.observe(c == "x", i * S)
    starts = [t for t in transitions if t.outage_started]
    ends = [t for t in transitions if t.outage_ended]
    assert len(starts) == 1 and len(ends) == 1
    assert starts[0].at_us == 3 * S and starts[0].outage is not None and starts[0].outage.started_us == 1 * S
    # A lone good check (5) does not end it; the run starting at 7 does, two checks later.
    assert ends[0].at_us == 8 * S
    assert ends[0].outage is not None and ends[0].outage.ended_us == 7 * S and ends[0].outage.duration_s == 6.0
    assert [t.after for t in transitions] == [
        NetState.FAILING,
        NetState.DOWN,
        NetState.RECOVERING,
        NetState.DOWN,
        NetState.RECOVERING,
        NetState.UP,
    ]
    assert detector.state is NetState.UP and detector.outage is None and detector.outages == 1


def test_thresholds_of_one() -> None:
    detector = OutageDetector(1, 1)
    assert feed(detector, "x.") == [
        (0, "up", "failing"),
        (0, "failing", "down"),
        (1, "down", "recovering"),
        (1, "recovering", "up"),
    ]


def test_bad_thresholds() -> None:
    with pytest.raises(ValueError, match="fail_after"):
        OutageDetector(0, 1)


def test_window_median_and_loss() -> None:
    window = LatencyWindow(size=4)
    for latencies in ({"a": 10.0, "b": None}, {"a": 30.0, "b": None}, {"a": 20.0, "b": 5.0}, {"a": None, "b": None}):
        window.add(latencies)
    stats = window.stats()
    assert stats["a"].median_ms == 20.0 and stats["a"].loss == 0.25 and stats["a"].checks == 4
    assert stats["b"].median_ms == 5.0 and stats["b"].loss == 0.75
    window.add({"a": 1.0, "b": 1.0})  # the oldest result (10) leaves the window: 30, 20, lost, 1
    assert window.stats(["a"])["a"].median_ms == 20.0 and window.stats(["c"])["c"].checks == 0

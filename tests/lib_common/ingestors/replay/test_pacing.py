from __future__ import annotations

import pytest

from lib_common.ingestors.replay.pacing import Pacer

S = 1_000_000


@pytest.mark.parametrize("speed", [1.0, 10.0, 0.5])
def test_due_at_the_recorded_offsets_over_the_speed(speed: float) -> None:
    pacer = Pacer(speed)
    recorded = [5 * S, 5 * S + 100_000, 6 * S, 9 * S]
    assert [pacer.due_us(t, 1_000 * S) for t in recorded] == [1_000 * S + int((t - 5 * S) / speed) for t in recorded]


def test_speed_zero_is_always_now() -> None:
    pacer = Pacer(0)
    assert [pacer.due_us(t, n) for t, n in ((1, 50), (10**9, 60), (5, 70))] == [50, 60, 70]


def test_a_step_back_is_due_at_once_and_time_goes_on_from_the_latest() -> None:
    pacer = Pacer(1)
    assert [pacer.due_us(t, 0) for t in (10 * S, 12 * S, 11 * S, 13 * S)] == [0, 2 * S, 2 * S, 3 * S]


def test_long_silences_are_cut_to_max_gap() -> None:
    pacer = Pacer(2, max_gap_s=60)
    night = 16 * 3600 * S
    assert [pacer.due_us(t, 0) for t in (0, 10 * S, 10 * S + night, 11 * S + night)] == [
        0,
        5 * S,
        35 * S,
        35 * S + S // 2,
    ]


def test_restart_paces_on_from_the_next_quote() -> None:
    pacer = Pacer(1)
    assert pacer.due_us(0, 100) == 100
    pacer.restart()
    assert pacer.due_us(50 * S, 7 * S) == 7 * S
    assert pacer.due_us(51 * S, 7 * S) == 8 * S


def test_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="speed must be 0 or positive"):
        Pacer(-1)

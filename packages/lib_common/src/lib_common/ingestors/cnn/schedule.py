"""When to poll Fear & Greed next: plain arithmetic on what the last polls saw.

CNN publishes no rate limit, so the poller stays polite and adapts:
- failing: exponential backoff from `error_base_s`, capped at `max_s` (and at least Retry-After);
- market closed: `closed_s`, or until shortly after the next regular open if that comes sooner;
- market open (or unknown, without a calendar): `min_s` while the score moves by `fast_move`
  points or more between polls, else `open_s`, doubling every two unchanged polls up to
  `stable_max_s`.
Every answer lies in [min_s, max_s].
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PollSchedule:
    min_s: float = 30.0
    open_s: float = 60.0
    stable_max_s: float = 300.0
    closed_s: float = 900.0
    fast_move: float = 1.0  # index points between two polls
    error_base_s: float = 30.0
    max_s: float = 900.0

    def __post_init__(self) -> None:
        if not 0 < self.min_s <= self.max_s:
            raise ValueError(f"schedule needs 0 < min_s <= max_s, got min_s={self.min_s} max_s={self.max_s}")
        for name in ("open_s", "stable_max_s", "closed_s", "error_base_s", "fast_move"):
            if getattr(self, name) <= 0:
                raise ValueError(f"schedule {name} must be positive, got {getattr(self, name)}")


DEFAULT_SCHEDULE = PollSchedule()


@dataclass(frozen=True, slots=True)
class Seen:
    """What the poller knows when it picks the next delay."""

    errors: int = 0  # consecutive failed polls (0 once one succeeds)
    unchanged: int = 0  # consecutive successful polls that brought nothing new
    move: float | None = None  # |score change| between the last two successful polls
    market_open: bool | None = None  # regular session now; None without a calendar
    until_open_s: float | None = None  # seconds to the next regular open, when closed
    retry_after_s: float | None = None  # the server's Retry-After on the last failure


def next_poll_delay(seen: Seen, schedule: PollSchedule = DEFAULT_SCHEDULE) -> float:
    """Seconds to wait before the next poll."""
    if seen.errors > 0:
        delay = schedule.error_base_s * 2.0 ** min(seen.errors - 1, 32)
        if seen.retry_after_s is not None:
            delay = max(delay, seen.retry_after_s)
    elif seen.market_open is False:
        delay = schedule.closed_s
        if seen.until_open_s is not None:
            # Wake just after the open rather than up to closed_s late into the session.
            delay = min(delay, seen.until_open_s + 1.0)
    elif seen.move is not None and seen.move >= schedule.fast_move:
        delay = schedule.min_s
    else:
        delay = min(schedule.stable_max_s, schedule.open_s * 2.0 ** min(max(seen.unchanged, 0) // 2, 32))
    return min(max(delay, schedule.min_s), schedule.max_s)

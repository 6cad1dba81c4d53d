"""Rate limits as plain policy: a token bucket for client message floods, and a throttle for
log lines that a flood of the same failure would otherwise repeat."""

from __future__ import annotations


class TokenBucket:
    """`rate` tokens a second, at most `burst` saved; `take` spends one."""

    __slots__ = ("_at", "_tokens", "burst", "rate")  # one a connection

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, got rate={rate} burst={burst}")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._at = now

    def take(self, now: float) -> bool:
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class LogThrottle:
    """One line for the first of a run of the same event, then at most one every `interval_s`
    saying how many were kept quiet since the last (told on the first event after the
    interval); every event is counted in `total`."""

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"need interval_s > 0, got {interval_s}")
        self.interval_s = interval_s
        self.total = 0
        self._quiet = 0
        self._next: float | None = None

    def event(self, now: float) -> int | None:
        """Count one event; None: keep quiet; a number: log a line now, for this event and that
        many kept quiet before it."""
        self.total += 1
        if self._next is not None and now < self._next:
            self._quiet += 1
            return None
        quiet, self._quiet = self._quiet, 0
        self._next = now + self.interval_s
        return quiet

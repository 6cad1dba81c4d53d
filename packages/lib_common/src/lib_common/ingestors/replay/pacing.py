"""When each recorded quote is due on replay: plain code of timestamps, no clock of its own.

At speed N a quote recorded t µs after the first one is due t/N µs after the replay started
(so speed 1 is the recorded pace, 10 ten times faster); speed 0 means no pacing at all (the
replay goes as fast as its clients take it, which the feed decides). The recorded times are
the recording gateway's receipt stamps, in file order: a stamp earlier than the one before
it (a file merged from two recordings) is taken as due at once, never as a step back. With
`max_gap_s`, a recorded silence longer than that (a night between two day files) is cut to
it. `restart` makes the next quote due at once and paces on from it (a loop, a pause while
nobody was subscribed).
"""

from __future__ import annotations


class Pacer:
    def __init__(self, speed: float, max_gap_s: float | None = None) -> None:
        if speed < 0:
            raise ValueError(f"speed must be 0 or positive, got {speed}")
        self.speed = speed
        self._max_gap_us = None if max_gap_s is None else int(max_gap_s * 1e6)
        self._start: tuple[int, int] | None = None  # (recorded µs, wall µs) paced from
        self._last = 0  # the latest recorded µs paced so far (after any cut)
        self._cut = 0  # µs of recorded silence cut so far

    def restart(self) -> None:
        self._start = None

    def due_us(self, recorded_us: int, now_us: int) -> int:
        """The wall time (µs) the quote recorded at `recorded_us` is due; `now_us` anchors the
        first one after a (re)start."""
        if self.speed == 0:
            return now_us
        if self._start is None:
            self._start, self._last, self._cut = (recorded_us, now_us), recorded_us, 0
        step = recorded_us - self._cut - self._last
        if step < 0:
            step = 0
        elif self._max_gap_us is not None and step > self._max_gap_us:
            self._cut += step - self._max_gap_us
            step = self._max_gap_us
        self._last += step
        recorded_start, wall_start = self._start
        return wall_start + int((self._last - recorded_start) / self.speed)

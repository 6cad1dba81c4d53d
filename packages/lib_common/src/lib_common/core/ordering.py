"""Per-symbol ordering guard for every place quotes of one symbol may come twice.

A client must never see a symbol go back in time or the same snapshot twice, whichever source it
came from (the stream and the polling fallback meet in the upstream manager; a poller sees the
same snapshot on every poll until it changes): a quote older than the last one passed for its
symbol is dropped, and so is one with the same time, price and volume.

With a clock, quotes dated outside a window around it are dropped first and counted (`TimeWindow`):
one frame dated ten years ahead would otherwise become the symbol's last time and have every
good quote after it dropped as out of order (issue 13 #10).

`seed` continues from a quote passed elsewhere (the poller taking over from the stream) and never
moves time back; `released` makes the current snapshot go out once more, for the next subscriber
of a symbol nobody held.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lib_common.core.quote import Quote


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far a quote's ts_upstream may stand from the local clock and still be believed.
    Ahead: clocks drift and exchanges stamp in their own time, so a few minutes; behind: a
    snapshot over a long weekend or holiday is days old, so weeks."""

    ahead_s: float = 300.0
    behind_s: float = 30 * 86_400.0

    def place(self, ts_upstream: int, now_us: int) -> str | None:
        """ "ahead" or "behind" when `ts_upstream` (µs) is outside the window around `now_us`."""
        if ts_upstream - now_us > self.ahead_s * 1e6:
            return "ahead"
        if now_us - ts_upstream > self.behind_s * 1e6:
            return "behind"
        return None


@dataclass(slots=True)
class _Last:
    ts_upstream: int
    price: object  # float | None from a Quote; whatever a client's frame held
    volume: object = None
    resend: bool = False


class MonotonicFilter:
    """`now_us` (the injected clock's) turns on the window check; without it only order counts."""

    def __init__(self, now_us: Callable[[], int] | None = None, window: TimeWindow | None = None) -> None:
        self._last: dict[str, _Last] = {}
        self._now_us = now_us
        self.window = window or TimeWindow()
        self.dropped = 0  # out of order or a repeat
        self.dropped_ahead = 0  # dated ahead of the window
        self.dropped_behind = 0

    def admit(self, quote: Quote) -> bool:
        return self.admit_snapshot(quote.symbol, quote.ts_upstream, quote.price, quote.day_volume)

    def admit_snapshot(self, symbol: str, ts_upstream: int, price: object, volume: object) -> bool:
        """`admit` for a quote that is not a Quote (a client's decoded frame): its symbol, time,
        price and volume are all the filter looks at."""
        if self._now_us is not None:
            place = self.window.place(ts_upstream, self._now_us())
            if place is not None:
                if place == "ahead":
                    self.dropped_ahead += 1
                else:
                    self.dropped_behind += 1
                return False
        last = self._last.get(symbol)
        if last is None:
            self._last[symbol] = _Last(ts_upstream, price, volume)
        elif _stale(ts_upstream, price, volume, last):
            self.dropped += 1
            return False
        else:  # updated in place: no allocation per quote
            last.ts_upstream, last.price, last.volume, last.resend = ts_upstream, price, volume, False
        return True

    def seed(self, symbol: str, ts_upstream: int, price: float | None = None) -> None:
        last = self._last.get(symbol)
        if last is None or ts_upstream > last.ts_upstream:
            self._last[symbol] = _Last(ts_upstream, price)
        elif ts_upstream == last.ts_upstream:
            last.price, last.resend = price, False
        # An older seed changes nothing: time never moves back.

    def released(self, symbol: str) -> None:
        last = self._last.get(symbol)
        if last is not None:
            last.resend = True

    def last_ts_upstream(self, symbol: str) -> int | None:
        last = self._last.get(symbol)
        return None if last is None else last.ts_upstream

    def forget(self, symbol: str) -> None:
        self._last.pop(symbol, None)


def _stale(ts_upstream: int, price: object, volume: object, last: _Last) -> bool:
    """Older than what passed, or the same snapshot again (unless it is owed once more)."""
    if ts_upstream != last.ts_upstream:
        return ts_upstream < last.ts_upstream
    return price == last.price and volume == last.volume and not last.resend

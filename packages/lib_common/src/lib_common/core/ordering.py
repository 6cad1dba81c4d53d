"""Per-symbol ordering guard for every place quotes of one symbol may come twice.

A client must never see a symbol go back in time or the same snapshot twice, whichever source it
came from (the stream and the polling fallback meet in the upstream manager; a poller sees the
same snapshot on every poll until it changes): a quote older than the last one passed for its
symbol is dropped, and so is one with the same time, price and volume.

`seed` continues from a quote passed elsewhere (the poller taking over from the stream) and never
moves time back; `released` makes the current snapshot go out once more, for the next subscriber
of a symbol nobody held.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib_common.core.quote import Quote


@dataclass(slots=True)
class _Last:
    ts_upstream: int
    price: float | None
    volume: int | None = None
    resend: bool = False


class MonotonicFilter:
    def __init__(self) -> None:
        self._last: dict[str, _Last] = {}
        self.dropped = 0

    def admit(self, quote: Quote) -> bool:
        last = self._last.get(quote.symbol)
        if last is not None and _stale(quote, last):
            self.dropped += 1
            return False
        self._last[quote.symbol] = _Last(quote.ts_upstream, quote.price, quote.day_volume)
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


def _stale(quote: Quote, last: _Last) -> bool:
    """Older than what passed, or the same snapshot again (unless it is owed once more)."""
    if quote.ts_upstream != last.ts_upstream:
        return quote.ts_upstream < last.ts_upstream
    return quote.price == last.price and quote.day_volume == last.volume and not last.resend

"""Per-symbol ordering guard where two sources meet (stream and polling fallback).

A client must never see a symbol go back in time or the same snapshot twice, whichever source
the quote came from: a quote older than the last one passed for its symbol is dropped, and so is
one with the same time and the same price and volume.
"""

from __future__ import annotations

from lib_common.core.quote import Quote


class MonotonicFilter:
    def __init__(self) -> None:
        self._last: dict[str, tuple[int, float | None, int | None]] = {}
        self.dropped = 0

    def admit(self, quote: Quote) -> bool:
        last = self._last.get(quote.symbol)
        if last is not None:
            ts, price, volume = last
            if quote.ts_upstream < ts or (
                quote.ts_upstream == ts and quote.price == price and quote.day_volume == volume
            ):
                self.dropped += 1
                return False
        self._last[quote.symbol] = (quote.ts_upstream, quote.price, quote.day_volume)
        return True

    def last_ts(self, symbol: str) -> int | None:
        last = self._last.get(symbol)
        return None if last is None else last[0]

    def forget(self, symbol: str) -> None:
        self._last.pop(symbol, None)

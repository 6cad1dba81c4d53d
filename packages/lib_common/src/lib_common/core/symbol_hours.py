"""Each symbol's session: crypto around the clock, equities by the NYSE calendar, with the
overnight session where the feed reports one. Plain code; callers pass the time in.

- Round-the-clock symbols (`round_the_clock`): crypto pairs as Yahoo names them (`BTC-USD`,
  `ETH-EUR`, `USDT-USD`...: a base, a dash, a fiat or crypto quote currency). Their session is
  `regular` at every hour, weekends and NYSE holidays included: silence is a failure at 3 a.m. on
  a Sunday too.
- Everything else follows the NYSE calendar (pre, regular, post; `market_hours.MarketCalendar`).
  Yahoo also quotes some US equities in an overnight session (20:00-04:00 New York, the nights
  before trading days); a symbol the feed has quoted with `market_hours: "overnight"` is in
  session on those nights as well, so a stall at night is noticed for it and for no other.

`SymbolSessions.session_at(ts, symbols)` is the most open session among `symbols` (what the
upstream manager needs: the stream must deliver while any of them trades); `session_of` is one
symbol's, and `summary` counts the symbols by session for /status.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from lib_common.core.market_hours import KNOWN_CLOSURES, NEW_YORK, MarketCalendar
from lib_common.core.quote import MarketHours

_QUOTE_CURRENCIES = "USD|USDT|USDC|EUR|GBP|JPY|CAD|AUD|BTC|ETH"
_CRYPTO = re.compile(rf"^[A-Z0-9]{{2,10}}-(?:{_QUOTE_CURRENCIES})$")
# Most open first: the session an upstream with several symbols is in.
_OPENNESS: tuple[MarketHours, ...] = ("regular", "pre", "post", "extended", "overnight", "closed")
_OVERNIGHT_START_H, _OVERNIGHT_END_H = 20, 4


def round_the_clock(symbol: str) -> bool:
    """Whether a symbol trades at every hour of every day (a crypto pair)."""
    return _CRYPTO.match(symbol) is not None


class SymbolSessions:
    def __init__(self, calendar: MarketCalendar | None = None) -> None:
        self.calendar = calendar or MarketCalendar(KNOWN_CLOSURES)
        self._overnight: set[str] = set()  # symbols the feed has quoted in the overnight session

    def note(self, symbol: str, reported: MarketHours | None) -> None:
        """The feed quoted `symbol` in session `reported`."""
        if reported == "overnight":
            self._overnight.add(symbol)

    def forget(self, symbol: str) -> None:
        self._overnight.discard(symbol)

    def session_of(self, symbol: str, ts_us: int) -> MarketHours:
        if round_the_clock(symbol):
            return "regular"
        session = self.calendar.session_at(ts_us)
        if session == "closed" and symbol in self._overnight and self._overnight_at(ts_us):
            return "overnight"
        return session

    def session_at(self, ts_us: int, symbols: Iterable[str] = ()) -> MarketHours:
        """The most open session among `symbols` (the NYSE one for none)."""
        best = len(_OPENNESS) - 1
        any_symbol = False
        for symbol in symbols:
            any_symbol = True
            best = min(best, _OPENNESS.index(self.session_of(symbol, ts_us)))
            if best == 0:
                break
        return _OPENNESS[best] if any_symbol else self.calendar.session_at(ts_us)

    def summary(self, ts_us: int, symbols: Iterable[str]) -> dict[str, int]:
        """How many of `symbols` are in each session now."""
        return dict(Counter(self.session_of(s, ts_us) for s in symbols))

    def _overnight_at(self, ts_us: int) -> bool:
        """20:00-04:00 New York on a night that ends in a trading day."""
        local = datetime.fromtimestamp(ts_us / 1e6, UTC).astimezone(NEW_YORK)
        if _OVERNIGHT_END_H <= local.hour < _OVERNIGHT_START_H:
            return False
        morning = local.date() + timedelta(days=1) if local.hour >= _OVERNIGHT_START_H else local.date()
        return self.calendar.trading_hours(morning) is not None

"""The NYSE calendar, borrowed from lib-common (the `market` extra) rather than carried twice.

pmdaemon installs on its own; only services that use a trading-day rule (`restart_at.days`) or
`defer_restarts` need the extra, and validation says so when it is missing. One source of truth
for holidays and early closes: lib_common.core.market_hours (NYSE Rule 7.2 plus the known
unscheduled closures).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Protocol


class Calendar(Protocol):
    """What the watch policy asks of a calendar."""

    def is_session_day(self, day: dt.date, *, full_days_only: bool) -> bool:
        """A trading day (with `full_days_only`, one without an early close)."""
        ...

    def in_regular_session(self, ts_us: int) -> bool:
        """`ts_us` (µs since the epoch) falls in NYSE's regular session."""
        ...


class NyseCalendar:
    """lib_common's MarketCalendar, with the unscheduled closures it knows."""

    def __init__(self) -> None:
        from lib_common.core.market_hours import KNOWN_CLOSURES, MarketCalendar

        self._calendar = MarketCalendar(KNOWN_CLOSURES)

    def is_session_day(self, day: dt.date, *, full_days_only: bool) -> bool:
        hours = self._calendar.trading_hours(day)
        return hours is not None and not (full_days_only and hours.early_close)

    def in_regular_session(self, ts_us: int) -> bool:
        return self._calendar.session_at(ts_us) == "regular"


@functools.cache
def calendar() -> NyseCalendar:
    """The shared calendar; ImportError without lib-common (pmdaemon[market])."""
    return NyseCalendar()

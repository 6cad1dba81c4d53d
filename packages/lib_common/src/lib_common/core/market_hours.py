"""NYSE trading sessions in America/New_York.

Pre 04:00-09:30, regular 09:30-16:00, post 16:00-20:00 on weekdays; closed otherwise.
Holidays and early closes by rule are not modelled yet: this module answers by time of day
and weekday only, which is what the synthetic feed needs to label its quotes.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from lib_common.core.quote import MarketHours

NEW_YORK = ZoneInfo("America/New_York")

_PRE_OPEN = time(4, 0)
_REGULAR_OPEN = time(9, 30)
_REGULAR_CLOSE = time(16, 0)
_POST_CLOSE = time(20, 0)


def session_at(ts_us: int) -> MarketHours:
    """The session an instant (µs since the epoch) falls in, by New York wall time."""
    local = datetime.fromtimestamp(ts_us / 1_000_000, NEW_YORK)
    if local.weekday() >= 5:
        return "closed"
    t = local.time()
    if t < _PRE_OPEN or t >= _POST_CLOSE:
        return "closed"
    if t < _REGULAR_OPEN:
        return "pre"
    if t < _REGULAR_CLOSE:
        return "regular"
    return "post"

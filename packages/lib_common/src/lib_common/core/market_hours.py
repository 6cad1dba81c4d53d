"""NYSE trading sessions in America/New_York.

On a trading day: pre 04:00-09:30, regular 09:30-16:00, post 16:00-20:00, closed otherwise.
On an early-close day regular ends at 13:00 and post runs 13:00-17:00 (NYSE's practice).
Weekends, holidays and the configured extra closed dates are closed all day.

Holidays follow NYSE Rule 7.2 as it stands now, applied to every year (history before the
current rules, such as MLK Day before 1998, is not modelled; Juneteenth counts from 2022):
New Year's Day, MLK Day, Washington's Birthday, Good Friday, Memorial Day, Juneteenth,
Independence Day, Labor Day, Thanksgiving and Christmas. A Saturday holiday is observed on the
Friday before and a Sunday one on the Monday after, except that New Year's Day on a Saturday is
not observed at all (the Friday is the last session of the old year). Early closes at 13:00 fall
on July 3, the day after Thanksgiving and Christmas Eve when those are weekdays and not holidays.
Unscheduled closures come from config as `MarketCalendar(extra_closed=...)`; the module's
default calendar (behind `session_at`) already knows the recent ones in `KNOWN_CLOSURES`, so
2025 has NYSE's published 250 sessions.

Instants are µs since the Unix epoch; callers pass the time in, so nothing here reads a clock.
Each year's session boundaries are computed once, on first use, so `session_at` is a bisect.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from lib_common.core.quote import MarketHours

__all__ = [
    "KNOWN_CLOSURES",
    "NEW_YORK",
    "MarketCalendar",
    "TradingHours",
    "easter_sunday",
    "nyse_holidays",
    "session_at",
]

NEW_YORK = ZoneInfo("America/New_York")

_PRE_OPEN = time(4, 0)
_REGULAR_OPEN = time(9, 30)
_REGULAR_CLOSE = time(16, 0)
_POST_CLOSE = time(20, 0)
_EARLY_CLOSE = time(13, 0)
_EARLY_POST_CLOSE = time(17, 0)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_ONE_DAY = timedelta(days=1)
# The last year's plan ends at the next year's first instant, which datetime must represent.
_MIN_YEAR, _MAX_YEAR = 1, 9998

_MON, _THU, _FRI, _SAT, _SUN = 0, 3, 4, 5, 6


def _to_us(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_US


def _from_us(ts_us: int) -> datetime:
    try:
        return _EPOCH + timedelta(microseconds=ts_us)
    except OverflowError:
        raise ValueError(f"instant {ts_us} µs is outside the years datetime can represent") from None


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> date:
    last = date(year, month + 1, 1) - _ONE_DAY
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday by the anonymous (Meeus/Jones/Butcher) computus."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday_shift = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * weekday_shift) // 451
    month, day = divmod(h + weekday_shift - 7 * m + 114, 31)
    return date(year, month, day + 1)


def nyse_holidays(year: int) -> dict[date, str]:
    """The full-day holidays of a year by rule, keyed by the date the market is closed."""
    fixed = [(date(year, 1, 1), "New Year's Day")]
    if year >= 2022:
        fixed.append((date(year, 6, 19), "Juneteenth"))
    fixed += [(date(year, 7, 4), "Independence Day"), (date(year, 12, 25), "Christmas Day")]
    holidays = {
        _nth_weekday(year, 1, _MON, 3): "Martin Luther King Jr. Day",
        _nth_weekday(year, 2, _MON, 3): "Washington's Birthday",
        easter_sunday(year) - 2 * _ONE_DAY: "Good Friday",
        _last_weekday(year, 5, _MON): "Memorial Day",
        _nth_weekday(year, 9, _MON, 1): "Labor Day",
        _nth_weekday(year, 11, _THU, 4): "Thanksgiving Day",
    }
    for day, name in fixed:
        if day.weekday() == _SAT:
            if day.month == 1 and day.day == 1:
                continue  # NYSE Rule 7.2: not moved back into the old year
            holidays[day - _ONE_DAY] = f"{name} (observed)"
        elif day.weekday() == _SUN:
            holidays[day + _ONE_DAY] = f"{name} (observed)"
        else:
            holidays[day] = name
    return dict(sorted(holidays.items()))


def _early_closes(year: int, holidays: dict[date, str]) -> set[date]:
    day_after_thanksgiving = _nth_weekday(year, 11, _THU, 4) + _ONE_DAY
    candidates = (date(year, 7, 3), day_after_thanksgiving, date(year, 12, 24))
    return {d for d in candidates if d.weekday() < _SAT and d not in holidays}


@dataclass(frozen=True, slots=True)
class TradingHours:
    """One trading day's session boundaries, as aware datetimes in America/New_York."""

    pre_open: datetime
    regular_open: datetime
    regular_close: datetime
    post_close: datetime
    early_close: bool

    @classmethod
    def on(cls, day: date, *, early_close: bool) -> TradingHours:
        def at(t: time) -> datetime:
            return datetime.combine(day, t, tzinfo=NEW_YORK)

        close, post_close = (_EARLY_CLOSE, _EARLY_POST_CLOSE) if early_close else (_REGULAR_CLOSE, _POST_CLOSE)
        return cls(at(_PRE_OPEN), at(_REGULAR_OPEN), at(close), at(post_close), early_close)


@dataclass(frozen=True, slots=True)
class _YearPlan:
    year: int
    start_us: int  # midnight opening 1 January, New York time
    end_us: int  # midnight opening 1 January of the next year
    bounds: list[int]  # labels[i] holds from bounds[i] until bounds[i + 1]
    labels: list[MarketHours]
    opens: list[int]
    hours: dict[date, TradingHours]


def _plan_year(year: int, extra_closed: frozenset[date]) -> _YearPlan:
    holidays = nyse_holidays(year)
    early = _early_closes(year, holidays)
    start_us = _to_us(datetime(year, 1, 1, tzinfo=NEW_YORK))
    bounds: list[int] = [start_us]
    labels: list[MarketHours] = ["closed"]
    hours: dict[date, TradingHours] = {}
    day = date(year, 1, 1)
    while day.year == year:
        if day.weekday() < _SAT and day not in holidays and day not in extra_closed:
            day_hours = hours[day] = TradingHours.on(day, early_close=day in early)
            bounds += map(
                _to_us,
                (day_hours.pre_open, day_hours.regular_open, day_hours.regular_close, day_hours.post_close),
            )
            labels += ("pre", "regular", "post", "closed")
        day += _ONE_DAY
    return _YearPlan(
        year=year,
        start_us=start_us,
        end_us=_to_us(datetime(year + 1, 1, 1, tzinfo=NEW_YORK)),
        bounds=bounds,
        labels=labels,
        opens=[_to_us(h.regular_open) for h in hours.values()],
        hours=hours,
    )


def _require_date(value: object, where: str) -> date:
    # datetime is a date subclass; accepting one would silently compare unequal to every date.
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{where}: expected a date, found {type(value).__name__} {value!r}")
    return value


class MarketCalendar:
    """NYSE sessions by rule plus the configured extra closed dates."""

    def __init__(self, extra_closed: Iterable[date] = ()) -> None:
        self._extra_closed = frozenset(
            _require_date(d, f"extra_closed[{index}]") for index, d in enumerate(extra_closed)
        )
        self._years: dict[int, _YearPlan] = {}
        self._recent: _YearPlan | None = None

    def session_at(self, ts_us: int) -> MarketHours:
        """The session an instant (µs since the epoch) falls in."""
        plan = self._recent
        if plan is None or not plan.start_us <= ts_us < plan.end_us:
            plan = self._recent = self._plan_containing(ts_us)
        return plan.labels[bisect_right(plan.bounds, ts_us) - 1]

    def trading_hours(self, d: date) -> TradingHours | None:
        """The day's four session boundaries, or None when the market is closed all day."""
        return self._plan(_require_date(d, "trading_hours").year).hours.get(d)

    def next_open(self, ts_us: int) -> int:
        """The first regular-session open strictly after the instant, in µs."""
        plan = self._plan_containing(ts_us)
        while True:
            i = bisect_right(plan.opens, ts_us)
            if i < len(plan.opens):
                return plan.opens[i]
            plan = self._plan(plan.year + 1)

    def _plan_containing(self, ts_us: int) -> _YearPlan:
        # New York is behind UTC, so its year is the UTC year or the one before.
        plan = self._plan(_from_us(ts_us).year)
        return plan if ts_us >= plan.start_us else self._plan(plan.year - 1)

    def _plan(self, year: int) -> _YearPlan:
        plan = self._years.get(year)
        if plan is None:
            if not _MIN_YEAR <= year <= _MAX_YEAR:
                raise ValueError(f"year {year} is outside the calendar's range {_MIN_YEAR}..{_MAX_YEAR}")
            plan = self._years[year] = _plan_year(year, self._extra_closed)
        return plan


# Unscheduled full-day closures since 2001 (national days of mourning, storms, 9/11).
KNOWN_CLOSURES: tuple[date, ...] = (
    date(2001, 9, 11),
    date(2001, 9, 12),
    date(2001, 9, 13),
    date(2001, 9, 14),
    date(2004, 6, 11),  # President Reagan
    date(2007, 1, 2),  # President Ford
    date(2012, 10, 29),  # Hurricane Sandy
    date(2012, 10, 30),
    date(2018, 12, 5),  # President G. H. W. Bush
    date(2025, 1, 9),  # President Carter
)

_DEFAULT_CALENDAR = MarketCalendar(KNOWN_CLOSURES)


class Sessions(Protocol):
    """What needs only the session label of an instant (the upstream manager, pollers)."""

    def session_at(self, ts_us: int) -> MarketHours: ...


class AlwaysOpen:
    """Sessions for instruments that trade around the clock (crypto): always regular."""

    def session_at(self, ts_us: int) -> MarketHours:
        return "regular"


def session_at(ts_us: int) -> MarketHours:
    """The session an instant (µs since the epoch) falls in, on the rules-only calendar."""
    return _DEFAULT_CALENDAR.session_at(ts_us)

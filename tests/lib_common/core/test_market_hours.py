from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.core.market_hours import (
    KNOWN_CLOSURES,
    NEW_YORK,
    MarketCalendar,
    easter_sunday,
    nyse_holidays,
    session_at,
)
from lib_common.core.quote import MarketHours

CALENDAR = MarketCalendar()
CARTER_MOURNING = date(2025, 1, 9)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
EARLY_CLOSES = [date(2025, 7, 3), date(2025, 11, 28), date(2025, 12, 24), date(2026, 11, 27), date(2026, 12, 24)]


def trading_days(calendar: MarketCalendar, year: int) -> list[date]:
    first = date(year, 1, 1)
    days = (first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days))
    return [d for d in days if calendar.trading_hours(d) is not None]


def is_early_close(day: date) -> bool:
    hours = CALENDAR.trading_hours(day)
    return hours is not None and hours.early_close


def at(text: str) -> int:
    """µs of a New York wall time."""
    return us(datetime.fromisoformat(text).replace(tzinfo=NEW_YORK))


def us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def ny(ts_us: int) -> datetime:
    return (EPOCH + timedelta(microseconds=ts_us)).astimezone(NEW_YORK)


@pytest.mark.parametrize(
    ("local", "session"),
    [
        ("2025-03-12 03:59:59", "closed"),
        ("2025-03-12 04:00:00", "pre"),
        ("2025-03-12 09:29:59", "pre"),
        ("2025-03-12 09:30:00", "regular"),
        ("2025-03-12 15:59:59", "regular"),
        ("2025-03-12 16:00:00", "post"),
        ("2025-03-12 19:59:59", "post"),
        ("2025-03-12 20:00:00", "closed"),
        ("2025-03-15 12:00:00", "closed"),  # Saturday
        ("2025-07-14 10:00:00", "regular"),  # summer time: still New York wall time
        ("2025-12-25 10:00:00", "closed"),  # Christmas
    ],
)
def test_sessions_by_new_york_wall_time(local: str, session: str) -> None:
    assert session_at(at(local)) == session
    assert CALENDAR.session_at(at(local)) == session


def test_2025_by_rule_has_251_sessions_and_250_with_the_carter_closure() -> None:
    # 261 weekdays less 10 rule holidays; NYSE's published 250 includes the 2025-01-09 closure.
    assert len(trading_days(CALENDAR, 2025)) == 251
    closed_for_carter = MarketCalendar(extra_closed=[CARTER_MOURNING])
    assert len(trading_days(closed_for_carter, 2025)) == 250
    assert CARTER_MOURNING not in trading_days(closed_for_carter, 2025)


def test_extra_closed_date_is_closed_all_day() -> None:
    calendar = MarketCalendar(extra_closed=[CARTER_MOURNING])
    assert calendar.trading_hours(CARTER_MOURNING) is None
    assert calendar.session_at(at("2025-01-09 10:00:00")) == "closed"
    assert calendar.next_open(at("2025-01-08 16:00:00")) == at("2025-01-10 09:30:00")
    assert CALENDAR.trading_hours(CARTER_MOURNING) is not None  # the rules alone do not know it
    assert CARTER_MOURNING not in nyse_holidays(2025)


@pytest.mark.parametrize("day", EARLY_CLOSES)
def test_early_closes(day: date) -> None:
    hours = CALENDAR.trading_hours(day)
    assert hours is not None and hours.early_close
    assert (hours.regular_open, hours.regular_close) == (
        datetime.combine(day, time(9, 30), tzinfo=NEW_YORK),
        datetime.combine(day, time(13, 0), tzinfo=NEW_YORK),
    )
    iso = day.isoformat()
    assert CALENDAR.session_at(at(f"{iso} 12:59:59")) == "regular"
    assert CALENDAR.session_at(at(f"{iso} 13:00:00")) == "post"
    assert CALENDAR.session_at(at(f"{iso} 16:59:59")) == "post"
    assert CALENDAR.session_at(at(f"{iso} 17:00:00")) == "closed"


def test_early_close_days_of_2025_and_2026_are_exactly_those() -> None:
    early = [d for year in (2025, 2026) for d in trading_days(CALENDAR, year) if is_early_close(d)]
    assert early == EARLY_CLOSES


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2025, 4, 18), "Good Friday"),
        (date(2026, 4, 3), "Good Friday"),
        (date(2022, 6, 20), "Juneteenth (observed)"),
        (date(2022, 12, 26), "Christmas Day (observed)"),
        (date(2027, 12, 24), "Christmas Day (observed)"),
        (date(2026, 7, 3), "Independence Day (observed)"),
        (date(2025, 1, 20), "Martin Luther King Jr. Day"),
        (date(2025, 2, 17), "Washington's Birthday"),
        (date(2025, 5, 26), "Memorial Day"),
        (date(2025, 9, 1), "Labor Day"),
        (date(2025, 11, 27), "Thanksgiving Day"),
        (date(2023, 1, 2), "New Year's Day (observed)"),  # 2023-01-01 was a Sunday
    ],
)
def test_holidays_are_closed(day: date, name: str) -> None:
    assert nyse_holidays(day.year).get(day) == name
    assert CALENDAR.trading_hours(day) is None
    assert CALENDAR.session_at(at(f"{day.isoformat()} 10:00:00")) == "closed"


@pytest.mark.parametrize(
    "day",
    [
        date(2021, 6, 18),  # Juneteenth only from 2022 (2021-06-19 was a Saturday)
        date(2021, 12, 31),  # New Year 2022 fell on a Saturday: not moved back into 2021
        date(2027, 12, 23),
        date(2026, 7, 2),
    ],
)
def test_days_that_stay_open(day: date) -> None:
    assert CALENDAR.trading_hours(day) is not None
    assert day not in nyse_holidays(day.year)
    assert not is_early_close(day)
    assert CALENDAR.session_at(at(f"{day.isoformat()} 15:00:00")) == "regular"


def test_no_july_3_early_close_when_it_is_the_observed_independence_day() -> None:
    assert not is_early_close(date(2026, 7, 3))
    assert CALENDAR.next_open(at("2026-07-02 16:00:00")) == at("2026-07-06 09:30:00")


def test_easter_computus() -> None:
    assert [easter_sunday(y) for y in (2024, 2025, 2026, 2038, 2285)] == [
        date(2024, 3, 31),
        date(2025, 4, 20),
        date(2026, 4, 5),
        date(2038, 4, 25),  # latest possible
        date(2285, 3, 22),  # earliest possible
    ]


def test_holidays_of_a_year_are_ten_weekdays_or_fewer() -> None:
    holidays_2022 = nyse_holidays(2022)  # New Year on a Saturday: only nine
    assert len(holidays_2022) == 9
    assert all(d.weekday() < 5 and d.year == 2022 for d in holidays_2022)


@pytest.mark.parametrize(
    ("utc", "session"),
    [
        ("2025-03-07 13:30:00", "pre"),  # 08:30 EST
        ("2025-03-09 15:00:00", "closed"),  # the transition Sunday
        ("2025-03-10 13:30:00", "regular"),  # 09:30 EDT
        ("2025-03-10 08:00:00", "pre"),  # 04:00 EDT
        ("2025-03-10 07:59:59", "closed"),
        ("2025-10-31 20:00:00", "post"),  # 16:00 EDT
        ("2025-11-02 15:00:00", "closed"),  # the transition Sunday
        ("2025-11-03 14:29:59", "pre"),  # 09:29:59 EST
        ("2025-11-03 14:30:00", "regular"),  # 09:30 EST
        ("2025-11-04 00:59:59", "post"),  # 19:59:59 EST on the 3rd
        ("2025-11-04 01:00:00", "closed"),
    ],
)
def test_dst_weeks_follow_new_york_wall_time(utc: str, session: str) -> None:
    assert CALENDAR.session_at(us(datetime.fromisoformat(utc).replace(tzinfo=UTC))) == session


def test_the_spring_forward_weekend_is_an_hour_short() -> None:
    after_close = at("2025-03-07 20:00:00")
    assert CALENDAR.session_at(after_close) == "closed"
    assert CALENDAR.session_at(at("2025-03-10 04:00:00") - 1) == "closed"
    assert CALENDAR.session_at(at("2025-03-10 04:00:00")) == "pre"
    assert at("2025-03-10 04:00:00") - after_close == (2 * 24 + 7) * 3600 * 1_000_000  # one hour short


def test_next_open_is_strictly_after() -> None:
    open_ = at("2025-03-12 09:30:00")
    assert CALENDAR.next_open(open_ - 1) == open_
    assert CALENDAR.next_open(open_) == at("2025-03-13 09:30:00")
    assert CALENDAR.next_open(at("2025-12-31 12:00:00")) == at("2026-01-02 09:30:00")


def test_datetime_is_rejected_where_a_date_is_expected() -> None:
    with pytest.raises(TypeError, match=r"trading_hours: expected a date, found datetime"):
        CALENDAR.trading_hours(datetime(2025, 1, 2, 10, 0))
    with pytest.raises(TypeError, match=r"extra_closed\[1\]: expected a date, found str '2025-01-09'"):
        MarketCalendar(extra_closed=[date(2025, 1, 1), "2025-01-09"])  # type: ignore[list-item]


def test_out_of_range_instant_says_so() -> None:
    with pytest.raises(ValueError, match=r"year 9999 is outside the calendar's range 1\.\.9998"):
        CALENDAR.session_at(us(datetime(9999, 6, 1, tzinfo=UTC)))
    with pytest.raises(ValueError, match="outside the years datetime can represent"):
        CALENDAR.session_at(10**20)


# Property tests over instants from 2000 to 2100.

START_US = at("2000-01-01 00:00:00")
END_US = at("2101-01-01 00:00:00")
instants = st.integers(min_value=START_US, max_value=END_US - 1)
days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


def expected_session(ts_us: int) -> MarketHours:
    """The label worked out from the day's boundaries alone, without the year plan."""
    local = ny(ts_us)
    hours = CALENDAR.trading_hours(local.date())
    matches: list[MarketHours] = []
    if hours is None or local < hours.pre_open or local >= hours.post_close:
        matches.append("closed")
    if hours is not None and hours.pre_open <= local < hours.regular_open:
        matches.append("pre")
    if hours is not None and hours.regular_open <= local < hours.regular_close:
        matches.append("regular")
    if hours is not None and hours.regular_close <= local < hours.post_close:
        matches.append("post")
    assert len(matches) == 1, (local, matches)
    return matches[0]


@given(instants)
def test_every_instant_is_in_exactly_one_session(ts_us: int) -> None:
    assert CALENDAR.session_at(ts_us) == expected_session(ts_us)
    # The default calendar is the rules plus the known one-off closures (2001-09-14 among them).
    closed = ny(ts_us).date() in KNOWN_CLOSURES
    assert session_at(ts_us) == ("closed" if closed else CALENDAR.session_at(ts_us))


@given(days)
def test_session_boundaries_are_ordered_on_trading_days(day: date) -> None:
    hours = CALENDAR.trading_hours(day)
    if hours is None:
        return
    assert hours.pre_open < hours.regular_open < hours.regular_close <= hours.post_close
    assert all(t.date() == day and t.tzinfo is NEW_YORK for t in (hours.pre_open, hours.post_close))


@given(instants)
def test_next_open_is_later_and_regular(ts_us: int) -> None:
    opens = CALENDAR.next_open(ts_us)
    assert opens > ts_us
    assert CALENDAR.session_at(opens) == "regular"
    assert CALENDAR.session_at(opens - 1) != "regular"


@given(days, st.integers(min_value=0, max_value=24 * 3600 - 1))
def test_holidays_and_weekends_are_closed_all_day(day: date, second: int) -> None:
    if day.weekday() < 5 and day not in nyse_holidays(day.year):
        assert CALENDAR.trading_hours(day) is not None
        return
    assert CALENDAR.trading_hours(day) is None
    instant = us(datetime.combine(day, time(0, 0), tzinfo=NEW_YORK)) + second * 1_000_000
    if ny(instant).date() == day:  # a DST day is 23 or 25 hours long
        assert CALENDAR.session_at(instant) == "closed"


def test_default_calendar_knows_recent_unscheduled_closures() -> None:
    assert len(trading_days(MarketCalendar(KNOWN_CLOSURES), 2025)) == 250  # NYSE's published count
    carter_day_10am = int(datetime(2025, 1, 9, 10, 0, tzinfo=NEW_YORK).timestamp() * 1_000_000)
    assert session_at(carter_day_10am) == "closed"

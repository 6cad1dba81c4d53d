"""Which file a quote goes to, and when a day's file closes: plain functions of timestamps.

A quote belongs to the New York date of its `ts_upstream` (the provider's time, which every
quote on the bus carries), so a file holds one NY trading date whatever the delay between
provider, gateway and this consumer. Day D closes once the clock is
past NY midnight ending D by `grace_s`, which leaves room for quotes stamped just before
midnight that arrive a little after it. A quote that arrives later still, for a day already
closed, goes to the oldest open day's file (and is counted as late): a closed file is never
reopened.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from lib_common.core.market_hours import NEW_YORK

FILE_NAME = re.compile(r"^quotes-(\d{4}-\d{2}-\d{2})\.ndjson(\.gz)?$")


def ny_date(ts_us: int) -> date:
    return datetime.fromtimestamp(ts_us / 1_000_000, UTC).astimezone(NEW_YORK).date()


def ny_midnight_after(day: date) -> int:
    """µs since the epoch of the NY midnight that ends `day` (DST-aware)."""
    start = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=NEW_YORK)
    return int(start.timestamp()) * 1_000_000


class RotationPolicy:
    def __init__(self, grace_s: float = 300.0) -> None:
        self.grace_us = int(grace_s * 1_000_000)

    def oldest_open_day(self, now_us: int) -> date:
        """Days before this one are closed."""
        return ny_date(now_us - self.grace_us)

    def day_for(self, quote_ts_us: int, now_us: int) -> tuple[date, bool]:
        """(the file's day, whether the quote is late for its own day)."""
        own = ny_date(quote_ts_us)
        floor = self.oldest_open_day(now_us)
        return (floor, True) if own < floor else (own, False)

    def is_closed(self, day: date, now_us: int) -> bool:
        return day < self.oldest_open_day(now_us)

    def seconds_until_close(self, day: date, now_us: int) -> float:
        return max(0.0, (ny_midnight_after(day) + self.grace_us - now_us) / 1_000_000)


def file_name(day: date, gzipped: bool = False) -> str:
    return f"quotes-{day.isoformat()}.ndjson" + (".gz" if gzipped else "")


def parse_file_name(name: str) -> tuple[date, bool] | None:
    """(day, gzipped) for a quotes file's name, None for anything else."""
    match = FILE_NAME.match(name)
    if not match:
        return None
    return date.fromisoformat(match.group(1)), match.group(2) is not None

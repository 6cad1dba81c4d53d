from __future__ import annotations

from datetime import datetime

import pytest

from lib_common.core.market_hours import NEW_YORK, session_at


def at(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=NEW_YORK).timestamp() * 1_000_000)


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
    ],
)
def test_sessions_by_new_york_wall_time(local: str, session: str) -> None:
    assert session_at(at(local)) == session

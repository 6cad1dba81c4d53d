from __future__ import annotations

from datetime import datetime

import pytest

from lib_common.core.market_hours import NEW_YORK
from lib_common.core.symbol_hours import SymbolSessions, round_the_clock


def at(local: str) -> int:
    return int(datetime.fromisoformat(local).replace(tzinfo=NEW_YORK).timestamp() * 1_000_000)


@pytest.mark.parametrize(
    ("symbol", "crypto"),
    [
        ("BTC-USD", True),
        ("ETH-EUR", True),
        ("USDT-USD", True),
        ("SOL-BTC", True),
        ("BRK-B", False),
        ("AAPL", False),
        ("EURUSD=X", False),
        ("^GSPC", False),
        ("X-USD", False),
    ],
)
def test_crypto_pairs_trade_around_the_clock(symbol: str, crypto: bool) -> None:
    assert round_the_clock(symbol) is crypto


@pytest.mark.parametrize(
    ("local", "aapl", "btc"),
    [
        ("2025-11-21 10:00:00", "regular", "regular"),
        ("2025-11-21 05:00:00", "pre", "regular"),
        ("2025-11-22 12:00:00", "closed", "regular"),  # a Saturday
        ("2025-11-27 12:00:00", "closed", "regular"),  # Thanksgiving
    ],
)
def test_each_symbol_has_its_own_session(local: str, aapl: str, btc: str) -> None:
    hours = SymbolSessions()
    assert hours.session_of("AAPL", at(local)) == aapl
    assert hours.session_of("BTC-USD", at(local)) == btc
    assert hours.session_at(at(local), ["AAPL", "BTC-USD"]) == "regular"  # the most open one
    assert hours.session_at(at(local), ["AAPL"]) == aapl
    assert hours.summary(at(local), ["AAPL", "MSFT", "BTC-USD"]) == (
        {"regular": 3} if aapl == "regular" else {aapl: 2, "regular": 1}
    )


@pytest.mark.parametrize(
    ("local", "session"),
    [
        ("2025-11-20 22:00:00", "overnight"),  # Thursday night before a trading Friday
        ("2025-11-21 03:59:59", "overnight"),
        ("2025-11-21 20:30:00", "closed"),  # Friday night: no trading Saturday
        ("2025-11-23 21:00:00", "overnight"),  # Sunday night before Monday
        ("2025-11-26 23:00:00", "closed"),  # the night before Thanksgiving
    ],
)
def test_the_overnight_session_counts_only_where_the_feed_reports_one(local: str, session: str) -> None:
    hours = SymbolSessions()
    hours.note("TSLA", "overnight")
    hours.note("MSFT", "regular")
    assert hours.session_of("TSLA", at(local)) == session
    assert hours.session_of("MSFT", at(local)) == "closed"
    hours.forget("TSLA")
    assert hours.session_of("TSLA", at(local)) == "closed"

"""A normalised quote, the unit every ingestor yields."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Yahoo's MarketHoursType adds extended and overnight sessions to NYSE's three.
MarketHours = Literal["pre", "regular", "post", "extended", "overnight", "closed"]


@dataclass(slots=True)
class Quote:
    """One provider snapshot of a symbol.

    Optional fields are None when the provider did not send them; they are left out of the
    wire frame, never invented. Treated as immutable once built; not `frozen` only because a
    frozen dataclass costs three times as much to construct, once per quote on the ingest path.
    """

    symbol: str
    ts_upstream: int  # provider's time, µs since the epoch
    ts_library_in: int  # receipt by the gateway, µs since the epoch
    price: float | None = None
    change: float | None = None
    change_percent: float | None = None
    day_volume: int | None = None
    market_hours: MarketHours | None = None
    currency: str | None = None
    exchange: str | None = None
    # Provider-specific fields that go on the wire as they are (e.g. Fear & Greed's "rating").
    extra: tuple[tuple[str, str | int | float | bool], ...] = ()

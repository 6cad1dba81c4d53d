"""Recorded lines for the replay tests: restream's own frames, as server_log writes them."""

from __future__ import annotations

import gzip
from collections.abc import Iterable
from pathlib import Path

from lib_common.core.frame import Frame
from lib_common.core.quote import Quote

START_US = 1_763_735_400_000_000  # 2025-11-21 09:30 New York


def quote(symbol: str, ts_upstream: int, price: float = 100.0, **fields: object) -> Quote:
    return Quote(
        symbol=symbol,
        ts_upstream=ts_upstream,
        ts_library_in=ts_upstream + 800,
        price=price,
        change=0.25,
        change_percent=0.1,
        day_volume=1200,
        market_hours="regular",
        currency="USD",
        exchange="NMS",
        **fields,  # type: ignore[arg-type]
    )


def log_line(q: Quote, seq: int = 0) -> bytes:
    """A server_log line: the dispatched frame with stream_id and quote_id first."""
    payload = Frame.quote(q, q.ts_library_in + 50).payload
    return b'{"stream_id":"%d-0","quote_id":"ep:%d",%b\n' % (q.ts_library_in // 1000, seq, payload[1:])


def session(symbols: Iterable[str], ticks: int, step_us: int = 100_000) -> list[Quote]:
    """`ticks` quotes of each symbol, `step_us` apart, in recorded order."""
    names = list(symbols)
    return [
        quote(name, START_US + tick * step_us + i, price=100.0 + i + tick / 100)
        for tick in range(ticks)
        for i, name in enumerate(names)
    ]


def write_day(path: Path, quotes: Iterable[Quote], extra_lines: Iterable[bytes] = ()) -> Path:
    """A day file of `quotes` (gzip'd when the name ends in .gz), `extra_lines` appended."""
    data = b"".join(log_line(q, i) for i, q in enumerate(quotes)) + b"".join(extra_lines)
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path

"""A stream entry as a `quotes` row, decoded and checked by the bus's one decoder
(`lib_common.redis_bus.format.decode_quote_frame`): one bad value must not fail the COPY of a
whole batch (and then fail it again on every retry)."""

from __future__ import annotations

import json

from lib_common.redis_bus.format import decode_quote_frame
from lib_common.redis_bus.stream import StreamEntry

Row = tuple[object, ...]


def _text(value: str | None) -> str | None:
    return None if value is None else value.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def quote_row(entry: StreamEntry) -> Row:
    """(stream_id, quote_id, symbol, price, ..., extra) in `schema.COLUMNS` order; BusMessageError if the
    frame is not a quote in the bus's format."""
    q, ts_library_out = decode_quote_frame(entry.frame)
    extra = dict(q.extra)
    return (
        entry.id,
        _text(entry.quote_id),
        _text(q.symbol),
        *(None if v is None else float(v) for v in (q.price, q.change, q.change_percent)),
        q.day_volume,
        _text(q.market_hours),
        _text(q.currency),
        _text(q.exchange),
        q.ts_upstream,
        q.ts_library_in,
        ts_library_out,
        json.dumps(extra, separators=(",", ":")).replace("\\u0000", "") if extra else None,
    )

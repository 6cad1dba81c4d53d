"""A stream entry as a `quotes` row, with every value checked against its column's type: one
bad value must not fail the COPY of a whole batch (and then fail it again on every retry)."""

from __future__ import annotations

import json

from servers.durable.entries import MalformedEntry, StreamEntry, decode_quote

Row = tuple[object, ...]

_FLOATS = ("price", "change", "change_percent")
_TEXTS = ("market_hours", "currency", "exchange")
_INTS = ("day_volume", "ts_upstream", "ts_library_in", "ts_library_out")
KNOWN = frozenset(("type", "symbol", *_FLOATS, *_TEXTS, *_INTS))
_BIGINT = 2**63


def _float(entry: StreamEntry, key: str, value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MalformedEntry(f"entry {entry.id}: {key} is not a number: {value!r}")
    return float(value)


def _int(entry: StreamEntry, key: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not -_BIGINT <= value < _BIGINT:
        raise MalformedEntry(f"entry {entry.id}: {key} is not a 64-bit integer: {value!r}")
    return value


def _text(entry: StreamEntry, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedEntry(f"entry {entry.id}: {key} is not a string: {value!r}")
    return value.replace("\x00", "")  # PostgreSQL text cannot hold NUL


def quote_row(entry: StreamEntry) -> Row:
    """(stream_id, symbol, price, ..., extra) in `schema.COLUMNS` order; MalformedEntry if the
    frame is not a quote."""
    q = decode_quote(entry)
    symbol = _text(entry, "symbol", q.get("symbol")) or entry.symbol
    if not symbol:
        raise MalformedEntry(f"entry {entry.id}: no symbol")
    extra = {k: v for k, v in q.items() if k not in KNOWN}
    return (
        entry.id,
        symbol,
        *(_float(entry, k, q.get(k)) for k in _FLOATS),
        _int(entry, "day_volume", q.get("day_volume")),
        *(_text(entry, k, q.get(k)) for k in _TEXTS),
        *(_int(entry, k, q.get(k)) for k in _INTS[1:]),
        json.dumps(extra, separators=(",", ":")).replace("\\u0000", "") if extra else None,
    )

"""Stream entries as the publisher writes them: fields `symbol` and `frame` (the quote's JSON,
exactly as restream sends it to clients)."""

from __future__ import annotations

import json
from typing import Any, NamedTuple


class MalformedEntry(ValueError):
    """An entry whose frame is not a quote object; it is counted, logged and acked, never retried."""


class StreamEntry(NamedTuple):  # a tuple: built for every entry read, at C speed
    id: str
    symbol: str
    frame: bytes


def id_key(entry_id: str) -> tuple[int, int]:
    """Stream ids order as (milliseconds, sequence), not as strings."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def decode_quote(entry: StreamEntry) -> dict[str, object]:
    """The frame as a JSON object (MalformedEntry when it is not one)."""
    try:
        body = json.loads(entry.frame)
    except ValueError as exc:
        raise MalformedEntry(f"entry {entry.id}: frame is not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise MalformedEntry(f"entry {entry.id}: frame is not a JSON object")
    return body


def receipt_us(entry_id: str) -> int:
    """When Redis took the entry in, µs since the epoch (from the id's milliseconds)."""
    return id_key(entry_id)[0] * 1000


def quote_time_us(entry_id: str, quote: dict[str, object]) -> int:
    """ts_upstream, else ts_library_in, else the entry's receipt by Redis."""
    for field in ("ts_upstream", "ts_library_in"):
        value = quote.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return receipt_us(entry_id)


RawEntry = list[Any]
"""[entry id (bytes), [field, value, field, value, ...]] as XREADGROUP returns it, taken as the
parser built it; the field list is None when the entry was trimmed or deleted while pending."""


def parse_entries(raw: list[RawEntry]) -> tuple[list[StreamEntry], list[str]]:
    """Entries with a frame, and the ids of entries without one (trimmed or deleted while pending,
    or written by something else): those have nothing to persist and are acked as they are."""
    entries: list[StreamEntry] = []
    empty: list[str] = []
    for raw_id, flat in raw:
        if flat is not None and len(flat) == 4 and flat[0] == b"symbol" and flat[2] == b"frame":
            symbol, frame = flat[1], flat[3]  # the publisher's layout: no dict needed
        else:
            fields = dict(zip(flat[::2], flat[1::2], strict=False)) if flat else {}
            symbol, frame = fields.get(b"symbol", b""), fields.get(b"frame", b"")
        if frame:
            entries.append(StreamEntry(raw_id.decode(), symbol.decode(errors="replace"), frame))
        else:
            empty.append(raw_id.decode())
    return entries, empty

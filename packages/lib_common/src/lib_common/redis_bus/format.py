"""The shared format of quotes on Redis: what an ingest node writes and every consumer reads.

- Pub/sub: channel `{prefix}quote:{SYMBOL}`; the message is the quote frame's JSON payload, the
  bytes restream sends its own clients (`Frame.payload`: ts_upstream, ts_library_in and the
  ingest's ts_library_out included).
- Stream: key `{prefix}quotes`, `XADD ... MAXLEN ~ N`, fields `symbol` (SYMBOL) and `frame`
  (the same payload bytes).

server_sql, server_log and the edge nodes depend on this exactly; change it only with them.
"""

from __future__ import annotations

import json
from typing import cast

from lib_common.core.quote import MarketHours, Quote
from lib_common.errors import BusMessageError

DEFAULT_PREFIX = "rsdev:"
DEFAULT_STREAM_MAXLEN = 1_000_000
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"

_FLOATS = ("price", "change", "change_percent")
_STRINGS = ("currency", "exchange")
_MARKET_HOURS = frozenset(("pre", "regular", "post", "extended", "overnight", "closed"))
# Keys of the payload that are not carried over as `extra` (the edge stamps its own ts_library_out).
_KNOWN = frozenset(
    ("type", "symbol", *_FLOATS, "day_volume", "market_hours", *_STRINGS, "ts_upstream", "ts_library_in")
)
_SKIPPED = frozenset(("type", "ts_library_out"))


def quote_channel(prefix: str, symbol: str) -> str:
    return f"{prefix}quote:{symbol}"


def stream_key(prefix: str) -> str:
    return f"{prefix}quotes"


def _number(body: dict[str, object], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BusMessageError("bad_field", f"{name}: expected a number, found {type(value).__name__}")
    return value  # an int stays an int: the edge re-encodes the ingest's payload as it was


def _integer(body: dict[str, object], name: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BusMessageError("bad_field", f"{name}: expected an integer, found {type(value).__name__}")
    return value


def decode_quote(payload: bytes | str) -> Quote:
    """A quote frame's payload back into the Quote it was encoded from, ingest timestamps kept.

    Raises BusMessageError (reason: not_json, not_quote, bad_field) for anything else.
    """
    try:
        body = json.loads(payload)
    except ValueError:
        raise BusMessageError("not_json", "message is not JSON") from None
    if not isinstance(body, dict) or body.get("type") != "quote":
        raise BusMessageError("not_quote", 'expected a JSON object with "type": "quote"')
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise BusMessageError("bad_field", "symbol: expected a non-empty string")
    ts_upstream = cast(int, _integer(body, "ts_upstream", required=True))
    ts_library_in = cast(int, _integer(body, "ts_library_in", required=True))
    strings: dict[str, str | None] = {}
    for name in _STRINGS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise BusMessageError("bad_field", f"{name}: expected a string, found {type(value).__name__}")
        strings[name] = value
    market_hours = body.get("market_hours")
    if market_hours is not None and market_hours not in _MARKET_HOURS:
        raise BusMessageError("bad_field", f"market_hours: unknown session {market_hours!r}")
    extra: list[tuple[str, str | int | float | bool]] = []
    for name, value in body.items():
        if name in _KNOWN or name in _SKIPPED:
            continue
        if not isinstance(value, str | int | float | bool):
            raise BusMessageError("bad_field", f"{name}: expected a scalar, found {type(value).__name__}")
        extra.append((name, value))
    return Quote(
        symbol=symbol,
        ts_upstream=ts_upstream,
        ts_library_in=ts_library_in,
        price=_number(body, "price"),
        change=_number(body, "change"),
        change_percent=_number(body, "change_percent"),
        day_volume=_integer(body, "day_volume", required=False),
        market_hours=cast(MarketHours | None, market_hours),
        currency=strings["currency"],
        exchange=strings["exchange"],
        extra=tuple(extra),
    )


REDIS_URL_SCHEMES = ("redis://", "rediss://", "unix://")


def redis_url_problem(url: str) -> str | None:
    """What is wrong with a Redis URL, or None when it has a scheme redis-py accepts."""
    if url.startswith(REDIS_URL_SCHEMES):
        return None
    return f"expected a redis://, rediss:// or unix:// URL, found {url!r}"

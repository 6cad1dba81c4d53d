"""The shared format of quotes on Redis: what an ingest node writes and every consumer reads.

- Pub/sub: channel `{prefix}quote:{SYMBOL}`; the message is the quote frame's JSON payload, the
  bytes restream sends its own clients (`Frame.payload`: ts_upstream, ts_library_in and the
  ingest's ts_library_out included).
- Stream: key `{prefix}quotes` (on a Redis Cluster with `stream_shards=N`, N keys
  `{PREFIXquotes:I}`, a symbol's on `stream_shard(symbol, N)`), `XADD ... MAXLEN ~ N`,
  fields `symbol` (SYMBOL) and `frame`
  (the same payload bytes), then `quote_id`: `EPOCH:SEQ`, the publisher's identity of the quote
  (EPOCH names one publisher's run, SEQ counts its frames from 0). A frame the publisher sends
  again after a lost connection gets a new entry id but keeps its quote id: the durable
  consumers skip what they already hold by it. Entries without one (older publishers) are read
  as before.

server_sql, server_log and the edge nodes depend on this exactly; change it only with them.
"""

from __future__ import annotations

import math
import zlib
from typing import NamedTuple, cast

from lib_common import untrusted_json
from lib_common.core.quote import MarketHours, Quote
from lib_common.errors import BusMessageError

DEFAULT_PREFIX = "rsdev:"
DEFAULT_STREAM_MAXLEN = 1_000_000
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
INT64 = 2**63  # integers on the bus are 64-bit: PostgreSQL bigint, and every JSON reader

_FLOATS = ("price", "change", "change_percent")
_STRINGS = ("currency", "exchange")
MARKET_HOURS = frozenset(("pre", "regular", "post", "extended", "overnight", "closed"))
# Keys of the payload that are not carried over as `extra` (the edge stamps its own ts_library_out).
_KNOWN = frozenset(
    ("type", "symbol", *_FLOATS, "day_volume", "market_hours", *_STRINGS, "ts_upstream", "ts_library_in")
)
_SKIPPED = frozenset(("type", "ts_library_out"))


def quote_id(epoch: bytes, seq: int) -> bytes:
    """The identity a publisher gives its `seq`th frame (`EPOCH:SEQ`); seqs of one epoch only
    grow in the order the publisher sends, resends apart."""
    return b"%s:%d" % (epoch, seq)


def parse_quote_id(text: str) -> tuple[str, int] | None:
    """(epoch, seq) of a quote id; None when it is not one (a reader then cannot dedupe it)."""
    epoch, sep, seq = text.rpartition(":")
    if not sep or not epoch or not (seq.isascii() and seq.isdigit()) or len(seq) > 18:
        return None
    return epoch, int(seq)


def quote_channel(prefix: str, symbol: str) -> str:
    """The pub/sub channel of `symbol`; `quote_channel(prefix, "")` is the prefix of them all."""
    return f"{prefix}quote:{symbol}"


def stream_key(prefix: str) -> str:
    return f"{prefix}quotes"


def stream_keys(prefix: str, shards: int = 1) -> list[str]:
    """The durable stream's keys: `{prefix}quotes` alone, or, spread over `shards` keys on a
    Redis Cluster, `{PREFIXquotes:I}` for I in 0..shards-1: the whole key is its hash tag, so
    each lives in one slot (whichever master serves it) and the shards land apart."""
    if shards == 1:
        return [stream_key(prefix)]
    return [f"{{{prefix}quotes:{i}}}" for i in range(shards)]


def stream_shard(symbol: str, shards: int) -> int:
    """Which of `shards` stream keys holds `symbol`'s quotes: the same one in every process and
    run (CRC-32 of the symbol, not Python's salted hash), so a symbol's quotes stay in order."""
    return zlib.crc32(symbol.encode()) % shards if shards > 1 else 0


class QuoteFrame(NamedTuple):
    """A decoded bus message: the Quote, and the ingest's dispatch stamp that a Quote has no
    field for (an edge stamps its own; server_sql keeps the ingest's)."""

    quote: Quote
    ts_library_out: int | None


def _fail(name: str, expected: str, value: object) -> BusMessageError:
    found = repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__
    return BusMessageError("bad_field", f"{name}: expected {expected}, found {found}")


def _number(body: dict[str, object], name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(name, "a number", value)
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(name, "a finite number", value)
    return value  # an int stays an int: the edge re-encodes the ingest's payload as it was


def _integer(body: dict[str, object], name: str, *, required: bool) -> int | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(name, "an integer", value)
    if not -INT64 <= value < INT64:
        raise _fail(name, "a 64-bit integer", value)
    return value


def _scalar(name: str, value: object) -> str | int | float | bool:
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(name, "a finite number", value)
    if not isinstance(value, str | int | float | bool):
        raise _fail(name, "a scalar", value)
    return value


def decode_quote_frame(payload: bytes | str) -> QuoteFrame:
    """The one decoder of the bus's quote messages (pub/sub payloads, stream `frame` fields,
    restream's own quote frames): the Quote it was encoded from, ingest timestamps kept.

    Checked: a JSON object with "type": "quote"; `symbol` a non-empty string; `ts_upstream` and
    `ts_library_in` present, integers (µs since the epoch); `ts_library_out` and `day_volume`
    integers when present; every integer 64-bit; every number finite (JSON's NaN/Infinity are
    refused); `currency`/`exchange` strings; `market_hours` a known session; other fields
    scalars (kept as `extra`). Anything else raises BusMessageError (reason: not_json,
    not_quote, bad_field) saying which field and what was found.
    """
    try:
        body = untrusted_json.loads(payload, check_floats=False)  # each number is checked below
    except untrusted_json.BadJSON as exc:
        raise BusMessageError("not_json", f"message is not usable JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("type") != "quote":
        raise BusMessageError("not_quote", 'expected a JSON object with "type": "quote"')
    symbol = body.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise BusMessageError("bad_field", "symbol: expected a non-empty string")
    ts_upstream = cast(int, _integer(body, "ts_upstream", required=True))
    ts_library_in = cast(int, _integer(body, "ts_library_in", required=True))
    ts_library_out = _integer(body, "ts_library_out", required=False)
    strings: dict[str, str | None] = {}
    for name in _STRINGS:
        value = body.get(name)
        if value is not None and not isinstance(value, str):
            raise _fail(name, "a string", value)
        strings[name] = value
    market_hours = body.get("market_hours")
    if market_hours is not None and (not isinstance(market_hours, str) or market_hours not in MARKET_HOURS):
        found = repr(market_hours[:40]) if isinstance(market_hours, str) else type(market_hours).__name__
        raise BusMessageError("bad_field", f"market_hours: unknown session {found}")
    extra = tuple(
        (name, _scalar(name, value)) for name, value in body.items() if name not in _KNOWN and name not in _SKIPPED
    )
    quote = Quote(
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
        extra=extra,
    )
    return QuoteFrame(quote, ts_library_out)


def decode_quote(payload: bytes | str) -> Quote:
    """`decode_quote_frame(payload).quote`: for readers that stamp their own ts_library_out."""
    return decode_quote_frame(payload).quote

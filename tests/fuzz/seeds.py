"""Seed inputs: the exact hostile inputs of issue 13, then real samples of each format.

Every target starts from `HOSTILE` (each input is hostile to some parser, and costs nothing to
try on the others) plus its own samples. The repository has no recorded Yahoo frames, so the
Yahoo samples are PricingData messages built with the same protobuf schema (`pricing_pb2`) and
enveloped as Yahoo's `?version=2` streamer and server_dummy send them, plus server_dummy's own
malformed frames. Config samples are the JSON5 blocks of README.md and docs/ and
deploy/services.json5.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

# issue 13 #1: a key missing its colon; the old KEY regex backtracked exponentially on it.
JSON5_KEY_WITHOUT_COLON = b"{ memory: { stall_timeout_seconds_for_clients 10 } }"
# issue 13 #6: JSON nested 60k deep (RecursionError out of json.loads).
DEEP_ARRAY = b"[" * 60_000 + b"]" * 60_000
DEEP_OBJECT = b'{"a":' * 60_000 + b"1" + b"}" * 60_000
# ... in a client message, unclosed so it stays under the default 64 KiB message limit.
DEEP_CLIENT_MESSAGE = b'{"op": "subscribe", "symbols": ' + b"[" * 60_000
# issue 13 #2: a binary frame that is not UTF-8 (UnicodeDecodeError out of the Yahoo decoder).
BINARY_FRAME = b"\x80\x81\xfe\xff\x00\x0a\x04AAPL"
# issue 13 #13: a RESP3 map keyed by a map (TypeError out of hiredis).
RESP3_MAP_KEYED_BY_MAP = b"%1\r\n%1\r\n+a\r\n+b\r\n+c\r\n"
# issue 13 #8: a duplicate key; the second `tenants: []` used to turn authentication off.
DUPLICATE_TENANTS = b"""{
  listen: { host: "127.0.0.1", port: 8765 },
  tenants: [ { name: "desk", token: "change-me", priority: 10, symbols: ["*"] } ],
  tenants: [],
}"""

HOSTILE: tuple[bytes, ...] = (
    JSON5_KEY_WITHOUT_COLON,
    DEEP_ARRAY,
    DEEP_OBJECT,
    DEEP_CLIENT_MESSAGE,
    BINARY_FRAME,
    RESP3_MAP_KEYED_BY_MAP,
    DUPLICATE_TENANTS,
    # issue 13 #2: NaN/Inf prices, as JSON (the bus, HTTP bodies) ...
    b'{"type": "quote", "symbol": "AAPL", "price": NaN, "ts_upstream": 1, "ts_library_in": 2}',
    b'{"type": "quote", "symbol": "AAPL", "price": Infinity, "ts_upstream": 1, "ts_library_in": 2}',
    b'{"type": "quote", "symbol": "AAPL", "price": 1e999, "ts_upstream": 1, "ts_library_in": 2}',
    # a fuzz finding (bus_quote, CI of session 4): a list where a string is looked up in a set
    b'{"type": "quote", "symbol": "HA", "ts_upstream": 1, "ts_library_in": 2, "market_hours": ["regular"]}',
    b'{"type": ["pong"]}',
    # a fuzz finding (config, CI of session 5): urlsplit's ValueError from an unclosed '['
    b"{ feed: { kind: 'yahoo', upstream_url: 'wss://st[' }, alerts: { speak_url: 'http://[' } }",
    b"",
    b"\xff",
)


def _pricing(**fields: Any) -> bytes:
    from lib_common.ingestors.yahoo.pricing_pb2 import PricingData

    data: bytes = PricingData(**fields).SerializeToString()
    return data


def _envelope(payload: bytes, *, compact: bool = True) -> bytes:
    body = {"type": "pricing", "message": base64.b64encode(payload).decode()}
    return json.dumps(body, separators=(",", ":") if compact else None).encode()


def yahoo_frames() -> list[bytes]:
    from servers.server_dummy.pricing import Malformed, malformed_frame

    aapl = _pricing(
        id="AAPL",
        price=189.25,
        time=1736509140000,
        currency="USD",
        exchange="NMS",
        quote_type=8,
        market_hours=1,
        change_percent=0.64,
        day_volume=51234567,
        day_high=190.5,
        day_low=187.75,
        change=1.2,
        short_name="Apple Inc.",
        previous_close=188.05,
        price_hint=2,
    )
    btc = _pricing(id="BTC-USD", price=97123.5, time=1736509141000, currency="USD", exchange="CCC", market_hours=1)
    index = _pricing(id="^GSPC", price=5918.25, time=1736509142000, exchange="SNP", market_hours=2)
    fx = _pricing(id="EURUSD=X", price=1.0291, time=1736509143000, exchange="CCY", change=-0.0012)
    frames = [_envelope(aapl), _envelope(aapl, compact=False), base64.b64encode(aapl), _envelope(btc)]
    frames += [_envelope(index), _envelope(fx), aapl]  # `aapl` raw: a binary frame of real PricingData
    frames.append(_envelope(aapl).replace(b"/", b"\\/"))  # the slow path: JSON escapes in the message
    # issue 13 #2: NaN and Inf prices reaching the Quote.
    for bad in (float("nan"), float("inf"), float("-inf")):
        frames.append(_envelope(_pricing(id="AAPL", price=bad, time=1736509140000)))
    frames.append(_envelope(_pricing(id="AAPL", change=float("nan"), time=1736509140000)))
    frames.append(b'{"type": "pricing", "message": ' + b"[" * 60_000)
    frames += [malformed_frame(kind, aapl).encode() for kind in Malformed]
    return frames


def bus_frames() -> list[bytes]:
    good = {
        "type": "quote",
        "symbol": "AAPL",
        "price": 189.25,
        "change": 1.2,
        "change_percent": 0.64,
        "day_volume": 51234567,
        "market_hours": "regular",
        "currency": "USD",
        "exchange": "NMS",
        "ts_upstream": 1736509140000000,
        "ts_library_in": 1736509140000123,
        "ts_library_out": 1736509140000456,
    }
    frames = [json.dumps(good).encode(), json.dumps({**good, "short_name": "Apple", "price_hint": 2}).encode()]
    frames.append(json.dumps({**good, "ts_upstream": 2**63}).encode())
    frames.append(json.dumps({**good, "extra": [1, 2]}).encode())
    return frames


def resp_replies() -> list[bytes]:
    payload = bus_frames()[0]
    message = b"*3\r\n$7\r\nmessage\r\n$16\r\nrsdev:quote:AAPL\r\n$%d\r\n%s\r\n" % (len(payload), payload)
    entry = b"*2\r\n$15\r\n1736509140000-0\r\n*4\r\n$6\r\nsymbol\r\n$4\r\nAAPL\r\n$5\r\nframe\r\n$%d\r\n%s\r\n" % (
        len(payload),
        payload,
    )
    xread = b"*1\r\n*2\r\n$12\r\nrsdev:quotes\r\n*2\r\n" + entry + entry
    return [
        b"+OK\r\n+PONG\r\n",
        b":1\r\n:-9223372036854775808\r\n",
        b"$5\r\nhello\r\n$-1\r\n*-1\r\n",
        b"-ERR unknown command 'FOO'\r\n-NOGROUP No such key 'rsdev:quotes'\r\n",
        b"*3\r\n$9\r\nsubscribe\r\n$16\r\nrsdev:quote:AAPL\r\n:1\r\n",
        message,
        message[:37],  # a push cut mid-bulk: incomplete, not an error
        xread,
        b"*1\r\n%1\r\n*1\r\n+a\r\n+b\r\n",  # a RESP3 map keyed by an array, inside an array
        b"~2\r\n+a\r\n+b\r\n%1\r\n+k\r\n:1\r\n,3.5\r\n#t\r\n_\r\n(12345678901234567890\r\n",
        b"*1\r\n" * 100 + b":1\r\n",  # nested past hiredis's depth limit
        b"$99999999999\r\n",  # a bulk string longer than hiredis accepts
        b"!21\r\nSYNTAX invalid syntax\r\n=15\r\ntxt:Some string\r\n",
    ]


def client_messages() -> list[bytes]:
    return [
        b'{"op": "subscribe", "symbols": ["AAPL", "BTC-USD", "^GSPC", "EURUSD=X", "ES=F", "BRK-B"]}',
        b'{"op": "unsubscribe", "symbols": ["AAPL"]}',
        b'{"op": "ping"}',
        b'{"op": "subscribe", "symbols": ["aapl ", 7, null, "no way", "' + b"A" * 40 + b'"]}',
        b'{"op": "subscribe", "symbols": []}',
        b'{"op": "dance"}',
        b'{"symbols": ["AAPL"]}',
        b'["op", "ping"]',
        b'{"op": "subscribe", "symbols": [' + b",".join(b'"S%d"' % i for i in range(101)) + b"]}",
    ]


def server_frames() -> list[bytes]:
    """What restream and redis2ws send a client (docs/protocol.md), as the client library reads them."""
    quote = {"type": "quote", "symbol": "AAPL", "price": 189.25, "day_volume": 5, "ts_upstream": 1736509140000000}
    return [
        json.dumps(quote).encode(),
        json.dumps({"type": "message", "channel": "rsdev:quote:AAPL", "data": quote}).encode(),
        b'{"type": "subscribed", "symbols": ["AAPL"]}',
        b'{"type": "status", "upstream": "polling", "previous": "streaming", "reason": "silent", "ts": 1}',
        b'{"type": "error", "code": "symbol_refused", "message": "ZZZ: not served"}',
        b'{"type": "pong"}',
    ]


def http_bodies() -> list[bytes]:
    return [
        b'{"text": "AAPL crossed 190", "priority": "high", "event": "cross"}',
        b'{"text": "hello"}',
        b'{"text": "   "}',
        b'{"text": "' + b"x" * 1001 + b'"}',
        b'{"text": "line one\\nforged log line", "priority": "urgent"}',
        b'{"mode": "stall"}',
        b'{"mode": "close", "persist": true}',
        b'{"mode": "http_error", "status": 503}',
        b'{"mode": "http_429", "retry_after": 2}',
        b'{"mode": "none", "status": true}',
        b'{"mode": ["stall"], "surprise": 1}',
    ]


_JSON5_FENCE = re.compile(r"```json5\n(.*?)```", re.S)


def config_samples() -> list[bytes]:
    """The JSON5 configs the repository documents and deploys."""
    samples = [(ROOT / "deploy/services.json5").read_bytes()]
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        samples += [block.encode() for block in _JSON5_FENCE.findall(doc.read_text(encoding="utf-8"))]
    samples += [
        b"{ feed: { kind: 'yahoo', upstream_url: 'wss://streamer.finance.yahoo.com/?version=2' } }",
        b"{ listen: { port: 70000 }, memory: { budget_bytes: 10 }, feed: { rate: 'fast' } }",
        b"{ tls: { cert: 'missing.pem', key: 'missing.key' } }",
        b"{ tenants: [ { name: 'desk', token: 'rsdev:v1:AAAA' } ] }",
        b"// comment\n{ /* block */ log_level: 'debug', registry: { linger_s: 0x1e, }, }",
        b"{ a: NaN, b: -Infinity, c: +1.5e3, d: .5, e: 'multi\\\nline', f: \"\\u00e9\" }",
    ]
    return samples

"""The client → server half of the restream contract, parsed without I/O.

    {"op": "subscribe",   "symbols": ["AAPL", "BTC-USD"]}
    {"op": "unsubscribe", "symbols": ["AAPL"]}
    {"op": "ping"}

A message that is not one of these raises ProtocolError with the code that goes into the
error frame. Inside a well-formed (un)subscribe, symbols that are not valid are set aside in
`invalid` with a reason, so one typo does not cost a client its other symbols.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Literal

from lib_common import untrusted_json
from lib_common.errors import ProtocolError

# Yahoo symbols: letters, digits and . - ^ = (e.g. ^GSPC, EURUSD=X, BRK-B, ES=F).
SYMBOL_RE = re.compile(r"[A-Z0-9.\-^=]{1,32}")


@dataclass(frozen=True, slots=True)
class Subscribe:
    symbols: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...] = ()  # (what was sent, why it is not a symbol)
    op: Literal["subscribe"] = "subscribe"


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    symbols: tuple[str, ...]
    invalid: tuple[tuple[str, str], ...] = ()
    op: Literal["unsubscribe"] = "unsubscribe"


@dataclass(frozen=True, slots=True)
class Ping:
    op: Literal["ping"] = "ping"


ClientMessage = Subscribe | Unsubscribe | Ping


def parse_json_object(text: str, *, max_bytes: int) -> dict[str, object]:
    """A client's text message as a JSON object, or ProtocolError (too_large, bad_json, bad_message)."""
    if len(text) > max_bytes or len(text.encode()) > max_bytes:
        raise ProtocolError("too_large", f"message is {len(text.encode())} bytes, limit is {max_bytes}")
    try:
        body = untrusted_json.loads(text)
    except untrusted_json.BadJSON as exc:
        raise ProtocolError("bad_json", f"message is not usable JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ProtocolError("bad_message", f"expected a JSON object, found {type(body).__name__}")
    return body


def parse_client_message(text: str, *, max_bytes: int, max_symbols: int) -> ClientMessage:
    body = parse_json_object(text, max_bytes=max_bytes)
    op = body.get("op")
    if op == "ping":
        return Ping()
    if op in ("subscribe", "unsubscribe"):
        symbols, invalid = _symbols(body.get("symbols"), max_symbols)
        return Subscribe(symbols, invalid) if op == "subscribe" else Unsubscribe(symbols, invalid)
    if op is None:
        raise ProtocolError("bad_message", 'missing "op"')
    raise ProtocolError("unknown_op", f"unknown op {op!r}: expected subscribe, unsubscribe or ping")


def _symbols(value: object, max_symbols: int) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    if not isinstance(value, list) or not value:
        raise ProtocolError("bad_symbols", '"symbols" must be a non-empty list of strings')
    if len(value) > max_symbols:
        raise ProtocolError("too_many_symbols", f"{len(value)} symbols in one message, limit is {max_symbols}")
    out: list[str] = []
    invalid: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        if not isinstance(item, str):
            invalid.append((repr(item), f"symbols[{i}]: expected a string, found {type(item).__name__}"))
            continue
        symbol = item.strip().upper()
        if not SYMBOL_RE.fullmatch(symbol):
            invalid.append((item, f"symbols[{i}]: {item!r} is not a symbol (letters, digits and . - ^ =, at most 32)"))
        elif symbol not in out:
            # Interned: every session holding a symbol (the registry keeps a set of them per
            # session, for its life) shares one string, not a copy of its own (~50 B a symbol).
            out.append(sys.intern(symbol))
    return tuple(out), tuple(invalid)

"""What server_yahoo's clients ask, in Yahoo's streamer protocol on `/` (also `/?version=2`).

    {"subscribe": ["AAPL", "BTC-USD"]}      {"unsubscribe": ["AAPL"]}

Yahoo closes the socket on a malformed request; the proxy keeps the client and ignores the
message (Yahoo's protocol has no error frame), logging and counting it, so one bad message
costs a client nothing it already had.
"""

from __future__ import annotations

import logging

from lib_common import untrusted_json
from lib_common.core.client_messages import SYMBOL_RE
from lib_common.core.session import ClientSession
from servers.server_yahoo.proxy import Proxy

log = logging.getLogger(__name__)


def parse_request(text: str) -> tuple[str, list[str]]:
    """("subscribe" | "unsubscribe", symbols); ValueError says what is wrong."""
    try:
        body = untrusted_json.loads(text)
    except untrusted_json.BadJSON:
        raise ValueError("not JSON") from None
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    for op in ("subscribe", "unsubscribe"):
        if op in body:
            symbols = body[op]
            if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
                raise ValueError(f"{op} is not a list of strings")
            cleaned = [s.strip().upper() for s in symbols]
            return op, [s for s in dict.fromkeys(cleaned) if SYMBOL_RE.fullmatch(s)]
    raise ValueError("neither subscribe nor unsubscribe")


def handle(proxy: Proxy, session: ClientSession, text: str | None) -> None:
    """One client message (None: a binary one): a (un)subscription, or a bad request counted
    and logged."""
    try:
        if text is None:
            raise ValueError("binary frame")
        op, symbols = parse_request(text)
    except ValueError as exc:
        proxy.bad_requests[str(exc)] += 1
        log.warning("client %d: ignoring a bad request (%s)", session.id, exc)
        return
    if op == "subscribe":
        added = proxy.registry.subscribe(session, symbols)
        proxy.fanout.snapshot(session, added)
    else:
        proxy.registry.unsubscribe(session, symbols)

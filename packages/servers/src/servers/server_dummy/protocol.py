"""Yahoo's streamer protocol, client side of the conversation, with no sockets.

Client → server text frames (reference/yahoo-streamer.md): `{"subscribe": ["AAPL", ...]}` and
`{"unsubscribe": [...]}`; yfinance re-sends its whole set every 15 s, so subscribing twice is a
no-op. Other keys are ignored. Anything else — not JSON, not an object, a `subscribe` that is
not a list of strings, a binary frame — is malformed, and Yahoo answers it by closing the
socket with an empty close frame (clients report 1005); the endpoint does the same.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lib_common import untrusted_json
from lib_common.arguments import at_least

ACTIONS = ("subscribe", "unsubscribe")


class MalformedClientFrame(ValueError):
    """A client frame Yahoo would close the connection for."""


@dataclass(frozen=True, slots=True)
class ClientRequest:
    """One client frame: symbols to add and to remove (either may be empty)."""

    subscribe: tuple[str, ...] = ()
    unsubscribe: tuple[str, ...] = ()


def normalise(symbol: str) -> str:
    return symbol.strip().upper()


def parse_client_frame(text: str) -> ClientRequest:
    try:
        body = untrusted_json.loads(text)
    except untrusted_json.BadJSON:
        raise MalformedClientFrame("expected a JSON object, found text that is not JSON") from None
    if not isinstance(body, dict):
        raise MalformedClientFrame(f"expected a JSON object, found {type(body).__name__}")
    lists: dict[str, tuple[str, ...]] = {}
    for action in ACTIONS:
        if action not in body:
            continue
        value = body[action]
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise MalformedClientFrame(f"{action}: expected a list of strings, found {json.dumps(value)[:80]}")
        lists[action] = tuple(s for s in map(normalise, value) if s)
    return ClientRequest(**lists)


class Subscriptions:
    """One connection's symbols in subscription order, capped like Yahoo's (extras are dropped silently)."""

    def __init__(self, capacity: int = 100) -> None:
        at_least("capacity", capacity, 1)
        self.capacity = capacity
        self._symbols: dict[str, None] = {}

    def add(self, symbols: Iterable[str]) -> list[str]:
        """Subscribe; returns the symbols that were not subscribed before and fit under the cap."""
        added: list[str] = []
        for symbol in symbols:
            if symbol in self._symbols or len(self._symbols) >= self.capacity:
                continue
            self._symbols[symbol] = None
            added.append(symbol)
        return added

    def remove(self, symbols: Iterable[str]) -> list[str]:
        """Unsubscribe; returns the symbols that were subscribed."""
        removed: list[str] = []
        for symbol in symbols:
            if symbol in self._symbols:
                del self._symbols[symbol]
                removed.append(symbol)
        return removed

    def clear(self) -> list[str]:
        removed = list(self._symbols)
        self._symbols.clear()
        return removed

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._symbols

    def __iter__(self) -> Iterator[str]:
        return iter(self._symbols)

    def __len__(self) -> int:
        return len(self._symbols)

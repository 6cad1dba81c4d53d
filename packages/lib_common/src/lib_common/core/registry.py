"""Registry: who wants which symbol, and when the upstream should follow.

Reference-counted symbols: the first subscriber of a symbol subscribes it upstream; when the
last one leaves, a cancellable linger timer waits before the upstream unsubscribe, so a quick
resubscribe (a page reload, a reconnecting client) costs no upstream traffic.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from typing import Generic, Protocol, TypeVar

from lib_common.clock import Clock, Timer

log = logging.getLogger(__name__)

S = TypeVar("S", bound=Hashable)


class UpstreamControl(Protocol):
    """What the registry asks of an ingestor."""

    def subscribe(self, symbols: list[str]) -> None: ...

    def unsubscribe(self, symbols: list[str]) -> None: ...


class Registry(Generic[S]):
    def __init__(self, upstream: UpstreamControl, clock: Clock, linger_s: float = 30.0) -> None:
        if linger_s < 0:
            raise ValueError(f"linger_s must not be negative, got {linger_s}")
        self._upstream = upstream
        self._clock = clock
        self.linger_s = linger_s
        self._subscribers: dict[str, set[S]] = {}
        self._by_session: dict[S, set[str]] = {}
        self._lingering: dict[str, Timer] = {}
        self.upstream_subscribes = 0
        self.upstream_unsubscribes = 0

    # Sessions

    def open(self, session: S) -> None:
        if session in self._by_session:
            raise ValueError(f"session {session!r} is open already")
        self._by_session[session] = set()

    def close(self, session: S) -> None:
        """Release everything the session held; closing twice is harmless."""
        symbols = self._by_session.get(session)
        if symbols is None:
            return
        self.unsubscribe(session, list(symbols))
        del self._by_session[session]

    def symbols_of(self, session: S) -> frozenset[str]:
        return frozenset(self._by_session.get(session, ()))

    @property
    def sessions(self) -> int:
        return len(self._by_session)

    # Subscriptions

    def subscribe(self, session: S, symbols: Iterable[str]) -> list[str]:
        """Add symbols to a session; returns those it did not hold before."""
        held = self._session(session)
        added: list[str] = []
        upstream_new: list[str] = []
        for symbol in symbols:
            if symbol in held:
                continue
            held.add(symbol)
            added.append(symbol)
            subs = self._subscribers.get(symbol)
            if subs is None:
                subs = self._subscribers[symbol] = set()
                timer = self._lingering.pop(symbol, None)
                if timer is not None:
                    timer.cancel()  # back within the linger: upstream never noticed
                else:
                    upstream_new.append(symbol)
            subs.add(session)
        if upstream_new:
            self.upstream_subscribes += len(upstream_new)
            self._upstream.subscribe(upstream_new)
        return added

    def unsubscribe(self, session: S, symbols: Iterable[str]) -> list[str]:
        """Remove symbols from a session; returns those it held."""
        held = self._session(session)
        removed: list[str] = []
        for symbol in symbols:
            if symbol not in held:
                continue
            held.discard(symbol)
            removed.append(symbol)
            subs = self._subscribers[symbol]
            subs.discard(session)
            if not subs:
                del self._subscribers[symbol]
                self._linger(symbol)
        return removed

    def subscribers(self, symbol: str) -> set[S] | None:
        """The sessions subscribed to `symbol` (the fan-out hot path: do not mutate)."""
        return self._subscribers.get(symbol)

    @property
    def active(self) -> list[str]:
        return sorted(self._subscribers)

    @property
    def lingering(self) -> list[str]:
        return sorted(self._lingering)

    def _session(self, session: S) -> set[str]:
        held = self._by_session.get(session)
        if held is None:
            raise KeyError(f"session {session!r} is not open")
        return held

    def _linger(self, symbol: str) -> None:
        if self.linger_s == 0:
            self._release_upstream(symbol)
            return
        self._lingering[symbol] = self._clock.call_later(self.linger_s, lambda: self._expire(symbol))

    def _expire(self, symbol: str) -> None:
        if self._lingering.pop(symbol, None) is not None and symbol not in self._subscribers:
            self._release_upstream(symbol)

    def _release_upstream(self, symbol: str) -> None:
        log.debug("upstream unsubscribe %s", symbol)
        self.upstream_unsubscribes += 1
        self._upstream.unsubscribe([symbol])

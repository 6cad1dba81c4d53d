"""Registry: who wants which symbol, and when the upstream should follow.

Reference-counted symbols: the first subscriber of a symbol subscribes it upstream; when the
last one leaves, a cancellable linger timer waits before the upstream unsubscribe, so a quick
resubscribe (a page reload, a reconnecting client) costs no upstream traffic.

Lingering is bounded, because it is upstream work nobody is watching (issue 13 #3: one client
churning subscriptions at 18 messages a second kept 11,100 symbols quoted upstream). A symbol a
session let go stays charged to that session while it lingers (`charged`), so the session's
symbol limit covers what it holds and what it left lingering; `release_lingering` lets the
oldest of those go at once to make room. A session that closes leaves its lingering symbols to
linger (that is what makes a reconnect free), and `max_lingering` bounds them all: past it, the
oldest lingering symbol is released at once.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Iterable
from typing import Generic, Protocol, TypeVar

from lib_common.arguments import non_negative
from lib_common.clock import Clock, Timer

log = logging.getLogger(__name__)

S = TypeVar("S", bound=Hashable)


class UpstreamControl(Protocol):
    """What the registry asks of an ingestor."""

    def subscribe(self, symbols: list[str]) -> None: ...

    def unsubscribe(self, symbols: list[str]) -> None: ...


class Registry(Generic[S]):
    def __init__(
        self, upstream: UpstreamControl, clock: Clock, linger_s: float = 30.0, max_lingering: int = 1000
    ) -> None:
        non_negative("linger_s", linger_s)
        non_negative("max_lingering", max_lingering)
        self.max_lingering = max_lingering
        self._upstream = upstream
        self._clock = clock
        self.linger_s = linger_s
        self._subscribers: dict[str, set[S]] = {}
        self._by_session: dict[S, set[str]] = {}
        self._lingering: dict[str, Timer] = {}  # oldest first
        self._owner: dict[str, S] = {}  # lingering symbol -> the open session that let it go
        self._owed: dict[S, dict[str, None]] = {}  # session -> its lingering symbols, oldest first
        self.lingering_evicted = 0  # released before their linger ran out, to keep within the bounds
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
        for symbol in self._owed.pop(session, {}):
            del self._owner[symbol]  # lingers on, charged to nobody

    def symbols_of(self, session: S) -> frozenset[str]:
        return frozenset(self._by_session.get(session, ()))

    def charged(self, session: S) -> int:
        """What counts toward the session's symbol limit: what it holds and what it left lingering."""
        return len(self._by_session.get(session, ())) + len(self._owed.get(session, ()))

    def release_lingering(self, session: S, count: int) -> int:
        """Release up to `count` of the symbols `session` left lingering, oldest first, upstream at
        once; how many were released."""
        owed = self._owed.get(session)
        released = 0
        while owed and released < count:
            self._evict(next(iter(owed)))
            released += 1
        return released

    @property
    def sessions(self) -> int:
        return len(self._by_session)

    # Subscriptions

    def subscribe(self, session: S, symbols: Iterable[str], *, limit: int | None = None) -> list[str]:
        """Add symbols to a session; returns those it did not hold before. With the session's
        symbol `limit`, what it left lingering is released, oldest first, until what it holds
        and what it left lingering fit (the caller keeps what it holds within the limit)."""
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
                    self._discharge(symbol)
                else:
                    upstream_new.append(symbol)
            subs.add(session)
        if upstream_new:
            self.upstream_subscribes += len(upstream_new)
            self._upstream.subscribe(upstream_new)
        if limit is not None and (excess := self.charged(session) - limit) > 0:
            self.release_lingering(session, excess)
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
                self._linger(symbol, session)
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

    def _linger(self, symbol: str, session: S) -> None:
        if self.linger_s == 0:
            self._release_upstream(symbol)
            return
        self._lingering[symbol] = self._clock.call_later(self.linger_s, lambda: self._expire(symbol))
        self._owner[symbol] = session
        self._owed.setdefault(session, {})[symbol] = None
        while len(self._lingering) > self.max_lingering:
            self._evict(next(iter(self._lingering)))

    def _expire(self, symbol: str) -> None:
        if self._lingering.pop(symbol, None) is not None and symbol not in self._subscribers:
            self._discharge(symbol)
            self._release_upstream(symbol)

    def _evict(self, symbol: str) -> None:
        """Release a lingering symbol now rather than when its linger runs out."""
        self._lingering.pop(symbol).cancel()
        self._discharge(symbol)
        self.lingering_evicted += 1
        self._release_upstream(symbol)

    def _discharge(self, symbol: str) -> None:
        session = self._owner.pop(symbol, None)
        if session is not None:
            owed = self._owed[session]
            del owed[symbol]
            if not owed:
                del self._owed[session]

    def _release_upstream(self, symbol: str) -> None:
        log.debug("upstream unsubscribe %s", symbol)
        self.upstream_unsubscribes += 1
        self._upstream.unsubscribe([symbol])

"""The hub: open connections, their subscriptions, and every frame the streamer sends.

Plain code over an `Egress` per connection (the WebSocket transport in production, a list in
tests). Each tick of the price book is encoded once per symbol and written to that symbol's
subscribers, through whatever the current fault says; everything sent is counted by kind.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from typing import Protocol

from servers.server_dummy.book import PriceBook, Snapshot
from servers.server_dummy.faults import FaultRequest, Faults, StreamFault
from servers.server_dummy.pricing import Malformed, encode_pricing, envelope, malformed_frame
from servers.server_dummy.protocol import MalformedClientFrame, Subscriptions, parse_client_frame

log = logging.getLogger(__name__)

PRICING = "pricing"
FAULT_CLOSE = (1000, "")


class Egress(Protocol):
    """Where one connection's frames go."""

    def send_text(self, text: str) -> bool:
        """Queue a text frame; False when the connection cannot take it (closing, or not reading)."""
        ...

    def close(self, code: int | None, reason: str = "") -> None:
        """Start the closing handshake; a None code sends an empty close frame (read as 1005)."""
        ...

    def abort(self) -> None:
        """Drop the connection with a TCP reset and no close frame."""
        ...


class Connection:
    _ids = itertools.count(1)

    def __init__(self, egress: Egress, max_symbols: int) -> None:
        self.id = next(self._ids)
        self.egress = egress
        self.subscriptions = Subscriptions(max_symbols)

    def __repr__(self) -> str:
        return f"<Connection {self.id} symbols={len(self.subscriptions)}>"


class Hub:
    def __init__(self, book: PriceBook, faults: Faults, *, max_symbols: int = 100) -> None:
        self.book = book
        self.faults = faults
        self.max_symbols = max_symbols
        self._connections: set[Connection] = set()
        self._subscribers: dict[str, set[Connection]] = {}
        self.sent: Counter[str] = Counter()  # frames by kind: pricing, or a Malformed kind
        self.events: Counter[str] = Counter()  # closes, aborts, withheld and dropped frames
        book.on_tick = self.publish

    # Connections

    def join(self, egress: Egress) -> Connection | None:
        """A connection after its handshake; None when a persistent fault ended it at once."""
        fault = self.faults.on_connect
        if fault is not None:
            self._end(egress, fault)
            return None
        connection = Connection(egress, self.max_symbols)
        self._connections.add(connection)
        return connection

    def leave(self, connection: Connection) -> None:
        self._connections.discard(connection)
        self._unsubscribe(connection, connection.subscriptions.clear())

    def receive(self, connection: Connection, text: str | None) -> bool:
        """One client frame; False when it was malformed and the connection is being closed."""
        try:
            if text is None:
                raise MalformedClientFrame("binary frames are not part of the protocol")
            request = parse_client_frame(text)
        except MalformedClientFrame as exc:
            # Yahoo closes on a malformed frame without a status code (clients see 1005).
            log.info("closing %r: %s", connection, exc)
            self.events["closed_malformed_client"] += 1
            connection.egress.close(None)
            return False
        self._unsubscribe(connection, connection.subscriptions.remove(request.unsubscribe))
        added = connection.subscriptions.add(request.subscribe)
        self.book.track(added)
        for symbol in added:
            self._subscribers.setdefault(symbol, set()).add(connection)
        return True

    def _unsubscribe(self, connection: Connection, symbols: list[str]) -> None:
        for symbol in symbols:
            subscribers = self._subscribers.get(symbol)
            if subscribers is not None:
                subscribers.discard(connection)
                if not subscribers:
                    del self._subscribers[symbol]

    # Frames

    def publish(self, snapshots: list[Snapshot]) -> None:
        """One tick of the book: a pricing frame per symbol to each of its subscribers."""
        for snapshot in snapshots:
            subscribers = self._subscribers.get(snapshot.symbol)
            if not subscribers:
                continue
            if self.faults.stalled:
                self.events["withheld"] += len(subscribers)
                continue
            payload = encode_pricing(snapshot)
            good = envelope(payload)
            for connection in subscribers:
                self._send(connection, PRICING, good)
                if self.faults.malformed:
                    kind = self.faults.next_malformed()
                    self._send(connection, kind.value, malformed_frame(kind, payload))

    def _send(self, connection: Connection, kind: str, text: str) -> None:
        if connection.egress.send_text(text):
            self.sent[kind] += 1
        else:
            self.events["dropped"] += 1

    # Faults

    def set_fault(self, request: FaultRequest) -> dict[str, object]:
        """Apply a fault; the answer says what is in force now and how many connections it ended."""
        action = self.faults.apply(request)
        ended = 0
        if action is not None:
            for connection in list(self._connections):
                self._end(connection.egress, action)
                self.leave(connection)
                ended += 1
        return {**self.faults.describe(), "applied": request.mode, "connections_ended": ended}

    def _end(self, egress: Egress, fault: StreamFault) -> None:
        if fault is StreamFault.ABORT:
            self.events["aborted"] += 1
            egress.abort()
        else:
            self.events["closed"] += 1
            egress.close(*FAULT_CLOSE)

    # Introspection

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    def status(self) -> dict[str, object]:
        return {
            "connections": len(self._connections),
            "subscriptions": {s: len(c) for s, c in sorted(self._subscribers.items())},
            "frames_sent": {kind: self.sent[kind] for kind in (PRICING, *Malformed)},
            "events": dict(sorted(self.events.items())),
            "fault": self.faults.describe(),
        }

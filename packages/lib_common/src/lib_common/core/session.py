"""ClientSession: the gateway's view of one connected client."""

from __future__ import annotations

import itertools
from typing import Protocol

from lib_common.core.conflating_queue import ConflatingQueue

_ids = itertools.count(1)


class Egress(Protocol):
    """The transport side of a client, implemented by the server's I/O adapter.

    `write` never blocks: the adapter buffers and reports back-pressure to the dispatcher
    (`Dispatcher.writable`). `close` sends a close frame and must not wait on a peer that has
    stopped reading: it aborts the connection when the close does not get through.
    """

    def write(self, data: bytes) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


class ClientSession:
    """Per-client delivery state; the Dispatcher is the only writer of its fields."""

    __slots__ = (
        "backlogged",
        "close_code",
        "closed",
        "egress",
        "id",
        "paused_since",
        "pending",
        "priority",
        "queue",
        "tenant",
        "writable",
    )

    def __init__(self, egress: Egress, *, tenant: str = "", priority: int = 0, queue_capacity: int = 256) -> None:
        self.id = next(_ids)
        self.tenant = tenant
        self.priority = priority
        self.egress = egress
        self.queue = ConflatingQueue(queue_capacity)
        # Frames accepted this loop tick for a writable client, written together at the flush.
        self.pending: list[bytes] = []
        # True while frames must go through `queue`: the transport is paused or the queue is
        # still draining.
        self.backlogged = False
        self.writable = True
        self.paused_since: float | None = None
        self.closed = False
        self.close_code: int | None = None

    def __repr__(self) -> str:
        return f"<ClientSession {self.id} tenant={self.tenant!r} queued={len(self.queue)}>"

"""Dispatcher: fan-out of each frame, encoded once, to every subscribed client.

Fast path: a client whose transport accepts data gets the frame's pre-built bytes appended to
a per-tick list, and all of a tick's frames go out in one write per client at the flush (the
frames stay separate WebSocket frames). Several writes per client per tick cost a system call
each; one is the cheapest delivery there is.

Slow path: while a client's transport is paused (its buffer above the high-water mark) its
frames go into its ConflatingQueue, accounted by the MemoryGuard, and drain in order when the
transport resumes. A client is evicted (1013 "slow consumer") when its queue overflows with
nothing left to conflate, when the guard's budget is exceeded and it is among the victims, or
when it stays paused longer than `stall_timeout_s`.

A batch conflates ahead for clients whose queue is full: a frame followed in the same batch by
a newer frame of its symbol would only be replaced in (or collapsed out of) that queue by the
next push, so it is counted as conflated and not pushed. A node that falls behind its input
gets larger batches, and this keeps the work per input frame from growing with the backlog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet

from lib_common.clock import Clock
from lib_common.core.frame import Frame
from lib_common.core.memory_guard import MemoryGuard
from lib_common.core.quote import Quote
from lib_common.core.registry import Registry
from lib_common.core.session import ClientSession
from lib_common.metrics import Histogram

log = logging.getLogger(__name__)

SLOW_CONSUMER = (1013, "slow consumer")

# Upper bounds of the ts_library_in → ts_library_out histogram, µs.
LATENCY_BOUNDS_US = (
    10,
    25,
    50,
    100,
    250,
    500,
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    1_000_000,
)


class Dispatcher:
    def __init__(
        self,
        registry: Registry[ClientSession],
        guard: MemoryGuard[ClientSession],
        clock: Clock,
        *,
        defer: Callable[[Callable[[], None]], object],
        stall_timeout_s: float = 10.0,
        drain_chunk_bytes: int = 64 * 1024,
    ) -> None:
        self._registry = registry
        self._guard = guard
        self._clock = clock
        self._defer = defer
        self.stall_timeout_s = stall_timeout_s
        self._drain_chunk = drain_chunk_bytes
        self._sessions: set[ClientSession] = set()
        self._dirty: list[ClientSession] = []
        self._flush_scheduled = False
        self._doomed: list[ClientSession] = []
        # Figures for /status and /metrics.
        self.frames_in = 0
        self.frames_out = 0
        self.conflated = 0
        self.evicted = 0
        self.latency_us = Histogram(LATENCY_BOUNDS_US)
        # The newest frame of each symbol: a new subscriber gets it at once (snapshot).
        self.latest: dict[str, Frame] = {}

    @property
    def sessions(self) -> frozenset[ClientSession]:
        return frozenset(self._sessions)

    # Lifecycle

    def attach(self, session: ClientSession) -> None:
        self._sessions.add(session)
        self._guard.register(session, session.priority)
        self._registry.open(session)

    def detach(self, session: ClientSession) -> None:
        """The client is gone: release what it held. Idempotent."""
        session.closed = True
        self._release(session)

    def close(self, session: ClientSession, code: int, reason: str) -> None:
        """Close a client from the server side (shutdown, flood, eviction)."""
        if session.closed:
            return
        session.closed = True
        session.close_code = code
        self._release(session)
        session.egress.close(code, reason)

    def evict(self, session: ClientSession) -> None:
        if session.closed:
            return
        self.evicted += 1
        log.warning("evicting %r: slow consumer", session)
        self.close(session, *SLOW_CONSUMER)

    def _release(self, session: ClientSession) -> None:
        session.pending.clear()
        session.queue.clear()
        self._guard.unregister(session)
        self._registry.close(session)
        self._sessions.discard(session)

    # Delivery

    def publish(self, quotes: Iterable[Quote]) -> list[Frame]:
        """Encode each quote once and offer the frame to its subscribers; returns the frames,
        so other consumers (the Redis publisher) reuse the same bytes."""
        now = self._clock.now_us()
        observe = self.latency_us.observe
        frames = []
        for quote in quotes:
            frames.append(Frame.quote(quote, now))
            observe(now - quote.ts_library_in)
        self.publish_frames(frames)
        return frames

    def publish_frames(self, frames: Sequence[Frame], route: str | None = None) -> None:
        """Offer frames built elsewhere (e.g. upstream frames relayed as they are) to the
        subscribers of their symbols; or, with `route`, to the subscribers of that registry key
        (a pattern subscription), each frame still conflated by its own symbol."""
        subscribers = self._registry.subscribers
        dirty = self._dirty
        latest = self.latest
        superseded: AbstractSet[int] | None = None  # worked out for the first backlogged client only
        for i, frame in enumerate(frames):
            symbol = frame.symbol if route is None else route
            if symbol is None:
                continue
            latest[symbol] = frame
            self.frames_in += 1
            subs = subscribers(symbol)
            if not subs:
                continue
            wire = frame.wire
            for session in subs:
                if session.backlogged:
                    if superseded is None:
                        superseded = _superseded(frames) if len(frames) > 1 else _NOTHING
                    if i in superseded and session.queue.full:
                        self.conflated += 1  # a newer frame of its symbol follows in this batch
                    else:
                        self._enqueue(session, frame)
                else:
                    pending = session.pending
                    if not pending:
                        dirty.append(session)
                    pending.append(wire)
        self._settle()

    def send(self, session: ClientSession, frame: Frame) -> None:
        """A frame for one client (control replies), in order with its quotes."""
        if session.closed:
            return
        if session.backlogged:
            self._enqueue(session, frame)
        else:
            if not session.pending:
                self._dirty.append(session)
            session.pending.append(frame.wire)
        self._settle()

    def broadcast(self, frame: Frame) -> None:
        """A frame for every client (status changes), in order with their quotes."""
        for session in list(self._sessions):
            self.send(session, frame)

    def writable(self, session: ClientSession, writable: bool) -> None:
        """The egress reports its transport paused (False) or resumed (True)."""
        session.writable = writable
        if not writable:
            session.backlogged = True
            if session.paused_since is None:
                session.paused_since = self._clock.monotonic()
            return
        session.paused_since = None
        if not session.closed:
            self._drain(session)

    def forget(self, symbols: Iterable[str]) -> None:
        """The upstream stopped quoting these symbols: drop their snapshots."""
        for symbol in symbols:
            self.latest.pop(symbol, None)

    def sweep(self) -> int:
        """Evict clients paused longer than the stall timeout; returns how many."""
        now = self._clock.monotonic()
        stalled = [
            s for s in self._sessions if s.paused_since is not None and now - s.paused_since >= self.stall_timeout_s
        ]
        for session in stalled:
            self.evict(session)
        return len(stalled)

    def flush(self) -> None:
        """Write each dirty client's pending frames in one write."""
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, []
        for session in dirty:
            self._write_pending(session)

    # Internals

    def _write_pending(self, session: ClientSession) -> None:
        pending = session.pending
        if not pending or session.closed:
            pending.clear()
            return
        data = pending[0] if len(pending) == 1 else b"".join(pending)
        self.frames_out += len(pending)
        pending.clear()
        session.egress.write(data)  # may report back-pressure synchronously

    def _enqueue(self, session: ClientSession, frame: Frame) -> None:
        queue = session.queue
        conflated = queue.conflated
        delta = queue.push(frame)
        self.conflated += queue.conflated - conflated
        if queue.overflowing:
            self._doomed.append(session)
        if self._guard.charge(session, delta):
            self._doomed.extend(self._guard.victims())

    def _drain(self, session: ClientSession) -> None:
        # Frames accepted before the pause go first: they are older than anything queued.
        self._write_pending(session)
        queue = session.queue
        while session.writable and len(queue) and not session.closed:
            wires, released = queue.pop_wire(self._drain_chunk)
            self._guard.charge(session, -released)
            self.frames_out += len(wires)
            session.egress.write(b"".join(wires))
        session.backlogged = not session.writable or len(queue) > 0

    def _settle(self) -> None:
        if self._doomed:
            doomed, self._doomed = self._doomed, []
            for session in doomed:
                self.evict(session)
        if self._dirty and not self._flush_scheduled:
            self._flush_scheduled = True
            self._defer(self.flush)


_NOTHING: frozenset[int] = frozenset()


def _superseded(frames: Sequence[Frame]) -> set[int]:
    """Positions of the frames that a later frame of the same symbol follows in `frames`."""
    seen: set[str] = set()
    out: set[int] = set()
    for i in range(len(frames) - 1, -1, -1):
        symbol = frames[i].symbol
        if symbol is None:
            continue
        if symbol in seen:
            out.add(i)
        else:
            seen.add(symbol)
    return out

"""Subscriber: one Redis pub/sub connection that follows what the registry wants.

The wanted channels and patterns change synchronously (the Registry calls `subscribe` /
`unsubscribe` from the event loop); a reconciling task sends the difference between what is
wanted and what this connection has been sent, so a reconnect, which starts from nothing sent,
resubscribes everything by the same path. One connection carries every channel whatever the
number of clients behind it: the Registry's refcount and linger decide when a channel comes
and goes.

Messages are handed on in batches: everything that one read of the socket completed. A node
that keeps up sees batches of one or a few; a node that fell behind sees large ones, which the
dispatcher can conflate for clients that are themselves behind (`Dispatcher.publish_frames`),
so falling behind costs less work per message instead of more.

`on_transition` hears each outage as an upstream Transition (streaming -> reconnecting when
Redis goes away, reconnecting -> streaming when it is connected again; every subscription is sent again at
once), so
an edge tells its clients as restream tells them about Yahoo (issue 12 #3).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import Outage
from lib_common.core.upstream_manager import Transition
from lib_common.core.upstream_policy import UpstreamState
from lib_common.redis_bus.reconnecting import LINK_ERRORS, LinkState, Reconnecting

SubscriberState = LinkState


@dataclass(frozen=True, slots=True)
class BusMessage:
    channel: str
    data: bytes
    pattern: str | None = None  # the pattern it matched, for a psubscribe delivery


class PubSubLink(Protocol):
    """One pub/sub connection; every method raises BusUnavailable when Redis is gone (or
    BusReplyError when it refuses)."""

    async def subscribe(self, channels: list[str]) -> None: ...

    async def unsubscribe(self, channels: list[str]) -> None: ...

    async def psubscribe(self, patterns: list[str]) -> None: ...

    async def punsubscribe(self, patterns: list[str]) -> None: ...

    async def next_messages(self) -> list[BusMessage]:
        """The channel and pattern messages that have arrived, oldest first, at least one
        (confirmations and pongs are skipped)."""
        ...

    async def close(self) -> None: ...


class _Sent:
    """What one connection has been told, so the reconciler sends only the difference."""

    def __init__(self) -> None:
        self.channels: set[str] = set()
        self.patterns: set[str] = set()


class Subscriber(Reconnecting[PubSubLink]):
    def __init__(
        self,
        connect: Callable[[], Awaitable[PubSubLink]],
        on_messages: Callable[[list[BusMessage]], None],
        *,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        name: str = "redis subscriber",
        monotonic: Callable[[], float] = time.monotonic,
        on_transition: Callable[[Transition], None] | None = None,
        now_us: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(
            connect,
            name=name,
            backoff=backoff,
            sleep=sleep,
            monotonic=monotonic,
            on_outage=None if on_transition is None else self._outage,
        )
        self._on_transition = on_transition
        self._now_us = now_us or (lambda: time.time_ns() // 1000)
        self._on_messages = on_messages
        self.channels: set[str] = set()
        self.patterns: set[str] = set()
        self._changed = asyncio.Event()
        self.messages = 0

    def _outage(self, _name: str, outage: Outage | None) -> None:
        """The Reconnect policy's outage start (None) or end, as an upstream Transition."""
        assert self._on_transition is not None
        if outage is None:
            source = UpstreamState.STREAMING if self.link.connects else UpstreamState.IDLE
            transition = Transition(
                self._now_us(), source, UpstreamState.RECONNECTING, f"redis: {self.link.last_error}"
            )
        else:
            reason = f"redis back after {outage.duration_s:.1f} s down"
            transition = Transition(self._now_us(), UpstreamState.RECONNECTING, UpstreamState.STREAMING, reason)
        self._on_transition(transition)

    # What the registry wants (synchronous)

    def subscribe(self, channels: Iterable[str]) -> None:
        self._want(self.channels.update, channels)

    def unsubscribe(self, channels: Iterable[str]) -> None:
        self._want(self.channels.difference_update, channels)

    def psubscribe(self, patterns: Iterable[str]) -> None:
        self._want(self.patterns.update, patterns)

    def punsubscribe(self, patterns: Iterable[str]) -> None:
        self._want(self.patterns.difference_update, patterns)

    def _want(self, change: Callable[[Iterable[str]], None], names: Iterable[str]) -> None:
        change(names)
        self._changed.set()

    async def _serve(self, link: PubSubLink) -> None:
        """Reconcile and read until one of them finds the connection gone."""
        sent = _Sent()
        await self._reconcile(link, sent)  # everything wanted, before the first read
        loop = asyncio.get_running_loop()
        tasks = {loop.create_task(self._read_forever(link)), loop.create_task(self._reconcile_forever(link, sent))}
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raises the link's BusError
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, *LINK_ERRORS):
                    await task

    async def _read_forever(self, link: PubSubLink) -> None:
        on_messages = self._on_messages
        while True:
            messages = await link.next_messages()
            self.messages += len(messages)
            on_messages(messages)

    async def _reconcile_forever(self, link: PubSubLink, sent: _Sent) -> None:
        while True:
            await self._changed.wait()
            await self._reconcile(link, sent)

    async def _reconcile(self, link: PubSubLink, sent: _Sent) -> None:
        self._changed.clear()
        for wanted, have, add, remove in (
            (self.channels, sent.channels, link.subscribe, link.unsubscribe),
            (self.patterns, sent.patterns, link.psubscribe, link.punsubscribe),
        ):
            new = sorted(wanted - have)
            gone = sorted(have - wanted)
            if new:
                await add(new)
                have.update(new)
            if gone:
                await remove(gone)
                have.difference_update(gone)

    # Figures

    def figures(self) -> dict[str, object]:
        return {
            **self.link_figures(),
            "channels": len(self.channels),
            "patterns": len(self.patterns),
            "messages": self.messages,
        }

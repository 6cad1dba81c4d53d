"""Reconnecting: the connect, serve, back off, reconnect loop the publisher and subscriber share.

A subclass says what to do with a live link (`_serve`, which returns or raises BusUnavailable
when the link is gone); this class owns the task, the state machine (logged on each
transition), the backoff (reset on each successful connect) and the figures about connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from lib_common.core.backoff import Backoff
from lib_common.errors import BusUnavailable

log = logging.getLogger(__name__)


class LinkState(enum.Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    BACKOFF = "backoff"


class Closable(Protocol):
    async def close(self) -> None: ...


L = TypeVar("L", bound=Closable)


def redis_backoff() -> Backoff:
    """Redis restarts in well under a second: retry soon, and never wait long."""
    return Backoff(base_s=0.1, cap_s=5.0)


class Reconnecting(Generic[L]):
    def __init__(
        self,
        connect: Callable[[], Awaitable[L]],
        *,
        name: str,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._connect = connect
        self.name = name
        self.backoff = backoff or redis_backoff()
        self._sleep = sleep
        self._task: asyncio.Task[None] | None = None
        self.state = LinkState.IDLE
        self.connects = 0
        self.errors = 0
        self.last_error: str | None = None

    async def _serve(self, link: L) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._set_state(LinkState.IDLE, "stopped")

    async def run(self) -> None:
        """Connect, serve, back off, reconnect: until cancelled."""
        while True:
            self._set_state(LinkState.CONNECTING, "connecting")
            try:
                link = await self._connect()
            except BusUnavailable as exc:
                self._failed(exc)
            else:
                self.connects += 1
                self.backoff.reset()
                self._set_state(LinkState.CONNECTED, "connected")
                try:
                    await self._serve(link)
                except BusUnavailable as exc:
                    self._failed(exc)
                finally:
                    with contextlib.suppress(BusUnavailable):
                        await link.close()
            delay = self.backoff.next_delay()
            self._set_state(LinkState.BACKOFF, f"retrying in {delay:.2f} s")
            await self._sleep(delay)

    def _failed(self, exc: BusUnavailable) -> None:
        self.errors += 1
        self.last_error = str(exc)
        log.warning("%s: %s", self.name, exc)

    def _set_state(self, state: LinkState, reason: str) -> None:
        if state is not self.state:
            log.info("%s %s -> %s (%s)", self.name, self.state.value, state.value, reason)
            self.state = state

    @property
    def connected(self) -> bool:
        return self.state is LinkState.CONNECTED

    @property
    def reconnects(self) -> int:
        return max(0, self.connects - 1)

    def link_figures(self) -> dict[str, object]:
        return {
            "state": self.state.value,
            "connected": self.connected,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "errors": self.errors,
            "last_error": self.last_error,
        }

"""Reconnecting: the connect, serve, back off, reconnect loop the publisher and subscriber share.

A subclass says what to do with a live link (`_serve`, which raises a BusError when the link is
gone); this class owns the task (lib_common.core.tasks) and runs the shared reconnect loop
(lib_common.core.reconnect_loop) around the shared policy (`lib_common.core.reconnect.Reconnect`:
the state enum with each transition logged, the backoff reset on each connect, one warning per
outage and a line when it ends, the figures).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar

from lib_common.alerts import link_hook
from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import LinkState, Outage, Reconnect
from lib_common.core.reconnect_loop import reconnect_loop
from lib_common.core.tasks import BackgroundTask
from lib_common.errors import BusReplyError, BusUnavailable

log = logging.getLogger(__name__)

__all__ = ["LinkState", "Reconnecting", "redis_backoff"]

# What ends a link: Redis gone, or Redis refusing (a key of the wrong type, bad credentials),
# which a new connection may or may not cure, and either way must not end the loop.
LINK_ERRORS = (BusUnavailable, BusReplyError)


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
        monotonic: Callable[[], float] = time.monotonic,
        on_outage: Callable[[str, Outage | None], None] | None = None,
    ) -> None:
        self._connect = connect
        self.name = name
        # Every Redis outage is alerted (lib_common.alerts), then told to the caller's hook.
        self.link: Reconnect = Reconnect(
            name,
            monotonic=monotonic,
            backoff=backoff or redis_backoff(),
            logger=log,
            on_outage=link_hook(lambda: self.link.last_error, on_outage),
        )
        self._sleep = sleep
        self._task = BackgroundTask(self.run, name=name)

    async def _serve(self, link: L) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        await self._task.start()

    async def stop(self) -> None:
        await self._task.stop()
        self.link.stopped()

    async def run(self) -> None:
        """Connect, serve, back off, reconnect: until cancelled."""
        await reconnect_loop(self.link, self._session, errors=LINK_ERRORS, sleep=self._sleep)

    async def _session(self) -> str:
        link = await self._connect()
        self.link.connected()
        try:
            await self._serve(link)
        finally:
            with contextlib.suppress(*LINK_ERRORS):
                await link.close()
        return "link ended"

    # Figures (the policy's)

    @property
    def state(self) -> LinkState:
        return self.link.state

    @property
    def backoff(self) -> Backoff:
        return self.link.backoff

    @property
    def connected(self) -> bool:
        return self.link.is_connected

    @property
    def connects(self) -> int:
        return self.link.connects

    @property
    def reconnects(self) -> int:
        return self.link.reconnects

    @property
    def errors(self) -> int:
        return self.link.errors

    @property
    def last_error(self) -> str | None:
        return self.link.last_error

    def link_figures(self) -> dict[str, object]:
        return self.link.figures()

"""Inbox: the ASGI receive events of one WebSocket connection, waiting for the app.

uvicorn keeps them in an `asyncio.Queue`, one a connection for the connection's life. A Queue
holds four deques (its items, its getters, its putters, and its `join()` Event's waiters),
each a 64-slot block even when empty: about 3 kB a connection, which at 10,000 idle clients is
30 MB for queues that hold a message or two now and then. An Inbox is what uvicorn asks of it
(`put_nowait`, `get`, `empty`, `qsize`: unbounded, first in first out, any number of waiting
getters woken in order, a cancelled getter passing its wake-up on as asyncio.Queue does) in a
list and, only while someone waits, a list of futures.
"""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")


class Inbox(Generic[T]):
    __slots__ = ("_items", "_waiters")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._waiters: list[asyncio.Future[None]] | None = None  # getters waiting, oldest first

    def qsize(self) -> int:
        return len(self._items)

    def empty(self) -> bool:
        return not self._items

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        self._wake_next()

    async def get(self) -> T:
        """The oldest item, waiting for one if there is none."""
        while not self._items:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            except BaseException:
                waiter.cancel()
                self._forget(waiter)
                if self._items and not waiter.cancelled():  # woken, then cancelled: wake the next
                    self._wake_next()
                raise
        return self._items.pop(0)

    def _forget(self, waiter: asyncio.Future[None]) -> None:
        waiters = self._waiters
        if waiters is not None and waiter in waiters:
            waiters.remove(waiter)
            if not waiters:
                self._waiters = None

    def _wake_next(self) -> None:
        waiters = self._waiters
        while waiters:
            waiter = waiters.pop(0)
            if not waiter.done():
                waiter.set_result(None)
                break
        if not waiters:
            self._waiters = None

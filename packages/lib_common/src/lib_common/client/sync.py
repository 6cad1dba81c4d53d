"""`stream()`: the client as a plain iterator, for scripts and notebooks that are not async.

    from lib_common.client import stream
    with stream("ws://127.0.0.1:8765/ws", ["AAPL"]) as quotes:
        for quote in quotes:
            print(quote["symbol"], quote["price"])

A `Client` runs on a thread of its own with its own event loop, so it keeps its connection,
its pings and its reconnects going while the caller does something else; frames wait for the
caller in a bounded queue. When the caller falls that far behind, the thread stops reading
(and the server conflates, then evicts, as it does for any slow client) rather than buffer
without end. `on_event` callbacks run on that thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Coroutine, Iterable, Iterator
from types import TracebackType
from typing import Any

from lib_common.client.connection import Client
from lib_common.client.policy import Frame
from lib_common.core.reconnect import LinkState

_END = object()  # the thread's last item: the iteration ends (or raises what ended it)


class Stream(Iterator[Frame]):
    def __init__(self, url: str, symbols: Iterable[str] = (), *, queue_size: int = 10_000, **options: Any) -> None:
        self.client = Client(url, symbols, **options)
        self._queue: queue.Queue[object] = queue.Queue(queue_size)
        self._error: BaseException | None = None
        self._done = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=self.client.policy.name, daemon=True)
        self._thread.start()

    # The caller's side

    def __iter__(self) -> Stream:
        return self

    def __next__(self) -> Frame:
        if self._done:
            raise StopIteration
        item = self._queue.get()
        if item is _END:
            self._done = True
            if self._error is not None:
                raise self._error
            raise StopIteration
        return item  # type: ignore[return-value]

    @property
    def state(self) -> LinkState:
        return self.client.state

    @property
    def upstream(self) -> str | None:
        return self.client.upstream

    def subscribe(self, names: Iterable[str], timeout: float = 10.0) -> None:
        self._call(self.client.subscribe(list(names)), timeout)

    def unsubscribe(self, names: Iterable[str], timeout: float = 10.0) -> None:
        self._call(self.client.unsubscribe(list(names)), timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Close the connection and end the iteration; frames not read yet are dropped."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.client.close(), self._loop)
            while self._thread.is_alive():  # make room for the thread's last put
                with contextlib.suppress(queue.Empty):
                    self._queue.get(timeout=0.05)
            self._thread.join(timeout)
        self._done = True

    def __enter__(self) -> Stream:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _call(self, coro: Coroutine[Any, Any, None], timeout: float) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    # The thread's side

    def _run(self) -> None:
        try:
            self._loop.run_until_complete(self._pump())
        finally:
            self._loop.close()

    async def _pump(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self.client:
                async for frame in self.client:
                    try:
                        self._queue.put_nowait(frame)
                    except queue.Full:  # wait for the caller off the loop: pings go on meanwhile
                        await loop.run_in_executor(None, self._queue.put, frame)
        except Exception as exc:
            self._error = exc
        finally:
            await loop.run_in_executor(None, self._queue.put, _END)


def stream(url: str, symbols: Iterable[str] = (), **options: Any) -> Stream:
    """A plain iterator of the frames a `Client(url, symbols, **options)` yields (see Client;
    `queue_size` bounds the frames waiting for the caller)."""
    return Stream(url, symbols, **options)

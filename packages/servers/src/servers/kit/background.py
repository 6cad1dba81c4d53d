"""Background: a coroutine run as a task from start to stop (a durable consumer, a price book,
a poller), with start/stop/serving as the kit's app expects of a service."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any


class Background:
    """A coroutine run as a task for the app's lifetime, serving from start to stop, with the
    figures of what it runs."""

    def __init__(
        self,
        run: Callable[[], Coroutine[Any, Any, None]],
        *,
        name: str,
        status: Callable[[], dict[str, object]] = dict,
        metrics: Callable[[], str] = str,
    ) -> None:
        self._run, self.name, self.status, self.metrics = run, name, status, metrics
        self._task: asyncio.Task[None] | None = None

    @property
    def serving(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

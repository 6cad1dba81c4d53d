"""One named background task: a coroutine run as an asyncio task from `start` to `stop`.

    self._task = BackgroundTask(self.run, name="synthetic-feed")
    await self._task.start()   # again while it runs: nothing
    await self._task.stop()    # cancels it and waits for it to end; again, or never started: nothing

`running` is true from `start` to `stop`. A coroutine that ends on its own keeps `running` true
until `stop` (it is the owner who says a service stopped). One that fails is not swallowed: the
failure is logged at ERROR when it happens (with its traceback, naming the task), and `stop`
re-raises it. A cancellation of the task by anyone is its normal end; a cancellation of the
caller of `stop` while it waits still propagates.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTask:
    def __init__(self, run: Callable[[], Coroutine[Any, Any, None]], *, name: str) -> None:
        self._run = run
        self.name = name
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        """Run the coroutine as a task on the running loop, unless it already runs."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=self.name)
            self._task.add_done_callback(self._report)

    async def stop(self) -> None:
        """Cancel the task and wait for it to end; re-raise what it failed with."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # the caller is being cancelled, not only the task

    def _report(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("background task %s failed", self.name, exc_info=error)

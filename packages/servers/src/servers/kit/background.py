"""Background: a coroutine run as a task from start to stop (a durable consumer, a price book,
a poller), with start/stop/serving as the kit's app expects of a service; the task is
lib_common.core.tasks' (a failure is logged when it happens and re-raised by stop)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from lib_common.core.tasks import BackgroundTask


class Background(BackgroundTask):
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
        super().__init__(run, name=name)
        self.status, self.metrics = status, metrics

    @property
    def serving(self) -> bool:
        return self.running

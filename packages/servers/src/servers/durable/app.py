"""The HTTP side of a durable consumer: the kit's /health, /status and /metrics, with the
consumer running as a task for the app's lifetime."""

from __future__ import annotations

from starlette.applications import Starlette

from servers.durable.consumer import DurableConsumer, State
from servers.kit.app import create_app as kit_create_app
from servers.kit.background import Background


def create_app(consumer: DurableConsumer) -> Starlette:
    def health() -> dict[str, object]:
        # 200 while the process serves: an outage of Redis or the sink is the consumer's to ride
        # out (restarting it would not help), so it shows as "degraded", not as a failure.
        running = consumer.state is State.RUNNING
        return {
            "status": "ok" if running else "degraded",
            "state": consumer.state.value,
            "last_error": "" if running else consumer.last_error,
            "lag": consumer.lag.lag,
            "retention_warning": consumer.lag.warning,
        }

    service = Background(
        consumer.run, name=f"{consumer.name}-consumer", status=consumer.status, metrics=consumer.metrics
    )
    return kit_create_app(service, health=health)

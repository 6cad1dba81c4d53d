"""The watch's alert route: the services file's `watch.alerts`, sent through lib_common.alerts.

lib-common is an optional extra (`pmdaemon[alerts]`), as for the market calendar: the same
route every server uses (server_speak's POST /speak and/or a webhook's JSON POST, a bounded
queue, one sender thread, a receiver's failures logged once and counted), not a second one.
Without it, or without `watch.alerts`, each alert is only logged, and the first says why.
"""

from __future__ import annotations

import logging
from typing import Protocol

from .incidents import Notice
from .services import WATCH_NAME, AlertsSpec

log = logging.getLogger("pmdaemon.watch")
MISSING_EXTRA = (
    "watch.alerts is set but lib-common is not installed (install pmdaemon[alerts]): "
    "alerts of FATAL services and restart loops are only logged"
)


class Route(Protocol):
    """What the watch asks of lib_common.alerts.AlertRoute."""

    def start(self, subject: str, text: str, **fields: object) -> None: ...

    def end(self, subject: str, text: str, duration_s: float, **fields: object) -> None: ...

    def close(self, timeout_s: float = 2.0) -> None: ...


def open_route(spec: AlertsSpec | None) -> Route | None:
    """A running route for `spec`; None (alerts only logged) without one or without lib-common."""
    if spec is None:
        return None
    try:
        from lib_common.alerts import AlertRoute, AlertsConfig
    except ImportError:
        log.error(MISSING_EXTRA)
        return None
    config = AlertsConfig(
        speak_url=spec.speak_url,
        webhook_url=spec.webhook_url,
        min_interval_s=spec.min_interval_s,
        timeout_s=spec.timeout_s,
    )
    route = AlertRoute(config, WATCH_NAME)
    route.run()
    return route


class Alerter:
    """The watch's notices, to the route of the services file it currently runs."""

    def __init__(self, spec: AlertsSpec | None) -> None:
        self.spec = spec
        self.route = open_route(spec)

    def configure(self, spec: AlertsSpec | None) -> None:
        if spec == self.spec:
            return
        self.close()
        self.spec, self.route = spec, open_route(spec)

    def send(self, notices: list[Notice]) -> None:
        for notice in notices:
            fields = {"service": notice.service, "incident": notice.kind.value}
            if self.route is None:
                log.warning("alert (%s %s): %s", notice.subject, notice.phase, notice.text)
            elif notice.phase == "start":
                self.route.start(notice.subject, notice.text, **fields)
            else:
                self.route.end(notice.subject, notice.text, notice.duration_s or 0.0, **fields)

    def close(self) -> None:
        if self.route is not None:
            self.route.close()
            self.route = None

"""Alerts that reach a person: an outage's start and end (with its duration) sent to server_speak's
`POST /speak`, to a webhook as a JSON body, or both; never blocking, never raising into the caller.

    alerts:
      speak_url: "http://127.0.0.1:8774/speak",   // server_speak (optional)
      webhook_url: "https://hooks.example/rsdev", // any receiver of a JSON POST (optional)
      min_interval_s: 60,                         // one outage start per subject at most this often

Every server and monitor reads this section (`read_alerts`, through lib_common.config, so
`RSDEV__ALERTS__SPEAK_URL` and the `--speak-url` / `--webhook-url` flags work the same way) and
installs an `AlertRoute` for the process (`start_route`). The code that knows of an outage then
says so to the installed route (`current()`), or through the hooks made here:

- `link_hook(...)`: a `Reconnect` policy's `on_outage` (the Redis publisher and subscriber, the
  durable consumers' Redis and PostgreSQL link);
- `UpstreamAlerts`: an UpstreamManager's `on_transition` (restream's failover and recovery);
- `AlertRoute.start` / `end` directly (the monitors).

The policy (`AlertPolicy`: plain code, the clock injected) pairs each start with its end by
subject and folds flapping: a start less than `min_interval_s` after the previous announced
start of the same subject waits; if its outage ends within that time neither is sent (counted as
folded), otherwise the start goes out once the interval has passed, and its end later. An end
goes out only for an announced start, so a person hears one start and one end per outage.

The route's adapter (`AlertRoute`) puts alerts on a bounded queue and one background thread
POSTs them; a full queue drops the newest (counted), a receiver that fails is logged once when
it starts failing and once when it answers again (its failures counted in between).
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import socket
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from lib_common import web_urls
from lib_common.config import Section
from lib_common.core.reconnect import Outage
from lib_common.core.upstream_policy import UpstreamState
from lib_common.flags import LOG_DIR_HELP, LOG_LEVELS, Option, read_log_dir, read_log_level
from lib_common.logging import setup_logging

log = logging.getLogger(__name__)

__all__ = [
    "PROGRAM_KEYS",
    "PROGRAM_OPTIONS",
    "Alert",
    "AlertPolicy",
    "AlertRoute",
    "AlertsConfig",
    "UpstreamAlerts",
    "current",
    "install",
    "link_hook",
    "read_alerts",
    "read_program",
    "setup_program",
    "spoken_duration",
    "start_route",
]


@dataclass(frozen=True, slots=True)
class AlertsConfig:
    speak_url: str | None = None
    webhook_url: str | None = None
    min_interval_s: float = 60.0
    queue_size: int = 64
    timeout_s: float = 3.0

    @property
    def enabled(self) -> bool:
        return bool(self.speak_url or self.webhook_url)


def read_alerts(root: Section) -> AlertsConfig:
    """The `alerts` section of a program's config (absent: no alerts)."""
    section = root.section("alerts")
    section.only(["speak_url", "webhook_url", "min_interval_s", "queue_size", "timeout_s"])
    d = AlertsConfig()
    urls = {}
    for key in ("speak_url", "webhook_url"):
        url = section.optional_str(key)
        problem = None if url is None else web_urls.url_problem(url, web_urls.HTTP, "an http:// or https:// URL")
        if problem is not None:
            section.problem(key, problem)
            url = None
        urls[key] = url or None
    return AlertsConfig(
        speak_url=urls["speak_url"],
        webhook_url=urls["webhook_url"],
        min_interval_s=section.number("min_interval_s", d.min_interval_s, minimum=0.0),
        queue_size=section.integer("queue_size", d.queue_size, minimum=1),
        timeout_s=section.number("timeout_s", d.timeout_s, minimum=0.1),
    )


PROGRAM_KEYS = ("log_level", "log_dir", "alerts")
"""The config keys every server and monitor has at its top level for logging and alerts."""

PROGRAM_OPTIONS = (
    Option("--log-level", "log_level", "log verbosity (default info)", choices=LOG_LEVELS),
    Option("--log-dir", "log_dir", LOG_DIR_HELP),
    Option(
        "--speak-url", "alerts.speak_url", "POST alerts (outages start and end) to server_speak's /speak at this URL"
    ),
    Option("--webhook-url", "alerts.webhook_url", "POST alerts as JSON to this webhook URL"),
)
"""The flags every server and monitor has for PROGRAM_KEYS (lib_common.flags.Option)."""


def read_program(root: Section) -> dict[str, Any]:
    """`log_level`, `log_dir` and `alerts` (the PROGRAM_KEYS) as keyword arguments for a
    program's config class."""
    return {"log_level": read_log_level(root), "log_dir": read_log_dir(root), "alerts": read_alerts(root)}


def spoken_duration(seconds: float) -> str:
    """`45 seconds`, `3 minutes 5 seconds`, `2 hours 1 minute`: read aloud as well as written."""

    def unit(n: int, name: str) -> str:
        return f"{n} {name}{'' if n == 1 else 's'}"

    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    if minutes:
        return unit(minutes, "minute") + (f" {unit(secs, 'second')}" if secs else "")
    return unit(secs, "second")


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: `phase` is "start" or "end" of an outage of `subject`, or "event" (one-off)."""

    service: str
    subject: str
    phase: str
    text: str
    at_us: int
    duration_s: float | None = None
    fields: Mapping[str, object] = field(default_factory=dict)

    @property
    def event(self) -> str:
        return {"start": "outage_start", "end": "outage_end"}.get(self.phase, "alert")

    def speak_body(self) -> dict[str, object]:
        """server_speak's `POST /speak` body; an outage's start is spoken first."""
        priority = "high" if self.phase == "start" else "normal"
        return {"text": f"{self.service}: {self.text}", "priority": priority, "event": self.event}

    def webhook_body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "service": self.service,
            "host": socket.gethostname(),
            "subject": self.subject,
            "phase": self.phase,
            "event": self.event,
            "text": self.text,
            "at": datetime.fromtimestamp(self.at_us / 1e6, UTC).isoformat(timespec="milliseconds"),
        }
        if self.duration_s is not None:
            body["duration_s"] = round(self.duration_s, 3)
        if self.fields:
            body["fields"] = dict(self.fields)
        return body


@dataclass(slots=True)
class _Open:
    """An outage of one subject, from its start until its end."""

    start: Alert
    since: float  # monotonic seconds
    announced: bool


class AlertPolicy:
    """Which alerts go out: one start and one end per outage of a subject, flapping folded
    (module docstring). Plain code: `now` is passed in (monotonic seconds)."""

    def __init__(self, min_interval_s: float = 60.0) -> None:
        self.min_interval_s = min_interval_s
        self._open: dict[str, _Open] = {}
        self._last_start: dict[str, float] = {}
        self.counts: Counter[str] = Counter()  # sent_start, sent_end, sent_event, folded, repeated

    def start(self, alert: Alert, now: float) -> list[Alert]:
        """An outage of `alert.subject` began: the alerts to send now ([] while it waits, or when
        that subject is already out)."""
        if alert.subject in self._open:
            self.counts["repeated"] += 1
            return []
        self._open[alert.subject] = _Open(alert, now, announced=False)
        return self.due(now)

    def end(self, alert: Alert, now: float) -> list[Alert]:
        """The outage of `alert.subject` ended: its end, if its start went out."""
        opened = self._open.pop(alert.subject, None)
        out = self.due(now)
        if opened is None:
            return out
        if not opened.announced:
            self.counts["folded"] += 1
            return out
        self.counts["sent_end"] += 1
        return [*out, alert]

    def event(self, alert: Alert) -> list[Alert]:
        """A one-off alert (a CRITICAL record): always sent."""
        self.counts["sent_event"] += 1
        return [alert]

    def due(self, now: float) -> list[Alert]:
        """Waiting starts whose subject's interval has passed."""
        out = []
        for subject, opened in self._open.items():
            last = self._last_start.get(subject)
            if not opened.announced and (last is None or now - last >= self.min_interval_s):
                opened.announced = True
                self._last_start[subject] = now
                self.counts["sent_start"] += 1
                out.append(opened.start)
        return out

    def waiting(self) -> int:
        return sum(not o.announced for o in self._open.values())

    @property
    def open_subjects(self) -> list[str]:
        return sorted(self._open)


Post = Callable[[str, bytes, float], None]
"""POSTs a JSON body to a URL within a timeout; raises OSError (urllib's errors) on failure."""


def http_post(url: str, body: bytes, timeout_s: float) -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        response.read()


@dataclass(slots=True)
class _Receiver:
    """One place alerts go (server_speak or the webhook), and how it has been answering."""

    name: str
    url: str
    body: Callable[[Alert], dict[str, object]]
    sent: int = 0
    failures: int = 0
    failing_since: int = 0  # failures in the current run of failures (0: answering)


class Route(Protocol):
    def start(self, subject: str, text: str, **fields: object) -> None: ...

    def end(self, subject: str, text: str, duration_s: float, **fields: object) -> None: ...

    def event(self, subject: str, text: str, **fields: object) -> None: ...


class AlertRoute:
    """The process's alert route: the policy, a bounded queue and one background sender thread.
    `start`, `end` and `event` return at once and never raise."""

    def __init__(
        self,
        config: AlertsConfig,
        service: str,
        *,
        post: Post = http_post,
        monotonic: Callable[[], float] = time.monotonic,
        now_us: Callable[[], int] = lambda: time.time_ns() // 1000,
        tick_s: float = 1.0,
    ) -> None:
        self.config = config
        self.service = service
        self.policy = AlertPolicy(config.min_interval_s)
        self._post = post
        self._monotonic = monotonic
        self._now_us = now_us
        self._tick_s = tick_s
        self._queue: queue.Queue[Alert | None] = queue.Queue(config.queue_size)
        self._lock = threading.Lock()
        self.receivers: list[_Receiver] = []
        if config.speak_url:
            self.receivers.append(_Receiver("server_speak", config.speak_url, Alert.speak_body))
        if config.webhook_url:
            self.receivers.append(_Receiver("webhook", config.webhook_url, Alert.webhook_body))
        self.dropped = 0
        self._thread: threading.Thread | None = None

    # What the program says

    def start(self, subject: str, text: str, **fields: object) -> None:
        self._decide(self.policy.start, self._alert(subject, "start", text, None, fields))

    def end(self, subject: str, text: str, duration_s: float, **fields: object) -> None:
        self._decide(self.policy.end, self._alert(subject, "end", text, duration_s, fields))

    def event(self, subject: str, text: str, **fields: object) -> None:
        self._decide(lambda alert, _now: self.policy.event(alert), self._alert(subject, "event", text, None, fields))

    # Lifecycle

    def run(self) -> None:
        """Start the sender thread (a daemon: it never holds the process up)."""
        if self._thread is None and self.receivers:
            self._thread = threading.Thread(target=self._send_forever, name="rsdev-alerts", daemon=True)
            self._thread.start()

    def close(self, timeout_s: float = 2.0) -> None:
        """Send what is queued (for at most `timeout_s`), then stop the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout_s)
        thread.join(timeout_s)

    def figures(self) -> dict[str, object]:
        return {
            **dict(self.policy.counts),
            "dropped": self.dropped,
            "open": self.policy.open_subjects,
            "receivers": {r.name: {"sent": r.sent, "failures": r.failures} for r in self.receivers},
        }

    # Inside

    def _alert(self, subject: str, phase: str, text: str, duration_s: float | None, fields: dict[str, object]) -> Alert:
        return Alert(self.service, subject, phase, text, self._now_us(), duration_s, fields)

    def _decide(self, decide: Callable[[Alert, float], list[Alert]], alert: Alert) -> None:
        try:
            with self._lock:
                out = decide(alert, self._monotonic())
            for each in out:
                self._enqueue(each)
        except Exception:  # an alert must never break the code that raised it
            log.exception("alert not sent: %s", alert.text)

    def _enqueue(self, alert: Alert) -> None:
        log.info("alert (%s %s): %s", alert.subject, alert.phase, alert.text)
        if not self.receivers:
            return
        try:
            self._queue.put_nowait(alert)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning("alerts: queue full, %d alert(s) dropped so far", self.dropped)

    def _send_forever(self) -> None:
        while True:
            try:
                alert = self._queue.get(timeout=self._tick_s)
            except queue.Empty:
                self._tick()
                continue
            if alert is None:
                return
            for receiver in self.receivers:
                self.deliver(receiver, alert)
            self._tick()

    def _tick(self) -> None:
        """Starts that waited out their interval go out now."""
        with self._lock:
            due = self.policy.due(self._monotonic())
        for alert in due:
            self._enqueue(alert)

    def deliver(self, receiver: _Receiver, alert: Alert) -> bool:
        """POST `alert` to `receiver`: a run of failures is logged at its first and when it ends."""
        body = json.dumps(receiver.body(alert), default=str).encode()
        try:
            self._post(receiver.url, body, self.config.timeout_s)
        except (OSError, ValueError) as exc:
            receiver.failures += 1
            receiver.failing_since += 1
            if receiver.failing_since == 1:
                log.warning(
                    "alerts: %s at %s is not answering (%s); later failures are counted, not logged",
                    receiver.name,
                    receiver.url,
                    exc,
                )
            return False
        receiver.sent += 1
        if receiver.failing_since:
            log.info("alerts: %s answers again (%d alert(s) lost)", receiver.name, receiver.failing_since)
            receiver.failing_since = 0
        return True


class _NoRoute:
    """The route before a program installs one: alerts are only logged (at DEBUG)."""

    def start(self, subject: str, text: str, **fields: object) -> None:
        log.debug("no alert route: %s", text)

    def end(self, subject: str, text: str, duration_s: float, **fields: object) -> None:
        log.debug("no alert route: %s", text)

    def event(self, subject: str, text: str, **fields: object) -> None:
        log.debug("no alert route: %s", text)


_NO_ROUTE = _NoRoute()
_installed: Route = _NO_ROUTE


def install(route: Route | None) -> None:
    """Make `route` the process's alert route (None: none again)."""
    global _installed
    _installed = _NO_ROUTE if route is None else route


def current() -> Route:
    """The process's alert route (one that only logs while none is installed)."""
    return _installed


def start_route(config: AlertsConfig, service: str) -> AlertRoute:
    """A program's route from its `alerts` config: installed for the process, its sender running."""
    route = AlertRoute(config, service)
    route.run()
    install(route)
    return route


def setup_program(*, service: str, level: str, log_dir: str | Path | None, alerts: AlertsConfig) -> AlertRoute:
    """What every server and monitor does first: lib_common.logging's handlers (CRITICAL
    records alerted) and its alert route, installed and running."""
    setup_logging(service=service, level=level, log_dir=log_dir, notify=critical_notifier, notify_events=())
    return start_route(alerts, service)


def critical_notifier(record: Mapping[str, Any]) -> None:
    """lib_common.logging's notify hook: a CRITICAL record becomes a one-off alert."""
    current().event(str(record.get("logger") or "critical"), str(record.get("message") or ""))


OutageHook = Callable[[str, Outage | None], None]


def link_hook(last_error: Callable[[], str | None], then: OutageHook | None = None) -> OutageHook:
    """A `Reconnect` policy's `on_outage`: the link's outage start (with the error that began it,
    `last_error()`) and end (with its duration) as alerts, then `then` (the caller's own hook)."""

    def hook(name: str, outage: Outage | None) -> None:
        if outage is None:
            current().start(name, f"{name} down: {last_error() or 'no answer'}")
        else:
            current().end(
                name,
                f"{name} back after {spoken_duration(outage.duration_s)}",
                outage.duration_s,
                failures=outage.errors,
            )
        if then is not None:
            then(name, outage)

    return hook


class Transitioned(Protocol):
    @property
    def at_us(self) -> int: ...
    @property
    def source(self) -> UpstreamState: ...
    @property
    def target(self) -> UpstreamState: ...
    @property
    def reason(self) -> str: ...


class UpstreamAlerts:
    """An UpstreamManager's `on_transition` as alerts: leaving the stream (reconnecting, polling:
    a failover) starts an outage of `subject`, streaming again ends it with its duration; moves
    between the degraded states, and a stop, say nothing. A start's first connect (idle to
    reconnecting) is no outage: every start of a gateway (a standby taking over included) would
    say one of 0 s; a first connect that fails over to polling is one."""

    DEGRADED = frozenset({UpstreamState.RECONNECTING, UpstreamState.POLLING})

    def __init__(self, subject: str = "upstream", route: Callable[[], Route] = current) -> None:
        self.subject = subject
        self._route = route
        self._since_us: int | None = None

    def __call__(self, transition: Transitioned) -> None:
        target = transition.target
        if transition.source is UpstreamState.IDLE and target is UpstreamState.RECONNECTING:
            return  # the first connect of a start: not a failover (one that fails goes on to polling)
        if target in self.DEGRADED and self._since_us is None:
            self._since_us = transition.at_us
            self._route().start(self.subject, f"{self.subject} {target.value}: {transition.reason}", state=target.value)
        elif target is UpstreamState.STREAMING and self._since_us is not None:
            duration_s = (transition.at_us - self._since_us) / 1e6
            self._since_us = None
            self._route().end(
                self.subject, f"{self.subject} streaming again after {spoken_duration(duration_s)}", duration_s
            )
        elif target is UpstreamState.IDLE and self._since_us is not None:
            duration_s = (transition.at_us - self._since_us) / 1e6
            self._since_us = None
            self._route().end(self.subject, f"{self.subject} stopped after {spoken_duration(duration_s)}", duration_s)

"""What the watch decides, as plain code: no sockets, no /proc, time from an injected clock.

Inputs: the process table (state, pid and tree RSS per service, read by the adapter), process
state changes (from supervisord's PROCESS_STATE events) and health-check results. Outputs:
`Action`s for the adapter to carry out, and per-service records for the state file.

Rules, each checked only while supervisord would not act on its own:
- memory: RUNNING with tree RSS above memory_limit_mb -> restart;
- health: `failures` consecutive failed checks while RUNNING -> restart;
- schedule: a restart_at New York time passed since the previous evaluation, RUNNING -> restart;
- fatal: FATAL (supervisord gave up) for the cool-down `backoff.delay(n)` -> start again, where n
  counts recoveries since the service last ran stably for backoff.max_s.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from .clock import Clock
from .services import HealthSpec, ServicesFile, ServiceSpec

# The same zone as lib_common.core.market_hours.NEW_YORK (pmdaemon does not depend on lib_common).
NEW_YORK = ZoneInfo("America/New_York")
MB = 1024 * 1024

log = logging.getLogger("pmdaemon.watch")


class ProcessState(enum.Enum):
    """supervisord's process states (supervisor.states.ProcessStates)."""

    STOPPED = "STOPPED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    BACKOFF = "BACKOFF"
    STOPPING = "STOPPING"
    EXITED = "EXITED"
    FATAL = "FATAL"
    UNKNOWN = "UNKNOWN"

    @classmethod
    def parse(cls, name: str) -> ProcessState:
        try:
            return cls(name.upper())
        except ValueError:
            return cls.UNKNOWN


@dataclass(frozen=True, slots=True)
class ProcessFacts:
    state: ProcessState
    pid: int = 0
    rss_bytes: int | None = None


class ActionKind(enum.Enum):
    RESTART = "restart"
    START = "start"


class Reason(enum.Enum):
    MEMORY = "memory"
    HEALTH = "health"
    SCHEDULE = "schedule"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    service: str
    reason: Reason
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.service} ({self.reason.value}): {self.detail}"


@dataclass
class ServiceRecord:
    """What the watch knows and has done about one service; the state file holds these."""

    starts: int = 0
    restarts: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    last_action: dict[str, Any] | None = None
    rss_bytes: int | None = None
    health_ok: bool | None = None
    health_failures: int = 0
    health_detail: str = ""
    health_checked_us: int | None = None
    recoveries: int = 0
    next_recovery_us: int | None = None
    # Not persisted: bookkeeping on the monotonic clock.
    pid: int = 0
    running_since: float | None = None
    fatal_until: float | None = None
    next_health: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "starts": self.starts,
            "restarts": self.restarts,
            "actions": dict(self.actions),
            "last_action": self.last_action,
            "rss_bytes": self.rss_bytes,
            "health": {
                "ok": self.health_ok,
                "consecutive_failures": self.health_failures,
                "detail": self.health_detail,
                "checked_us": self.health_checked_us,
            },
            "recoveries": self.recoveries,
            "next_recovery_us": self.next_recovery_us,
        }


def passed_times(times: tuple[dt.time, ...], after_us: int, until_us: int) -> list[dt.datetime]:
    """The New York wall-clock `times` that occur in (after_us, until_us]."""
    start = dt.datetime.fromtimestamp(after_us / 1e6, NEW_YORK)
    end = dt.datetime.fromtimestamp(until_us / 1e6, NEW_YORK)
    out = []
    day = start.date()
    while day <= end.date():
        for t in times:
            # Aware comparisons are in UTC, so DST changes are handled by zoneinfo.
            moment = dt.datetime.combine(day, t, tzinfo=NEW_YORK)
            if start < moment <= end:
                out.append(moment)
        day += dt.timedelta(days=1)
    return sorted(out)


class WatchPolicy:
    def __init__(self, services: ServicesFile, clock: Clock) -> None:
        self._clock = clock
        self._services = services
        self.records: dict[str, ServiceRecord] = {s.name: ServiceRecord() for s in services.services}
        self._last_eval_us: int | None = None

    @property
    def services(self) -> ServicesFile:
        return self._services

    def configure(self, services: ServicesFile) -> None:
        """Take a reloaded services file; records of services that remain are kept."""
        self._services = services
        self.records = {s.name: self.records.get(s.name) or ServiceRecord() for s in services.services}

    def on_process_state(self, name: str, from_state: str, to_state: str) -> None:
        record = self.records.get(name)
        if record is None:
            return
        log.info("%s: %s -> %s", name, from_state, to_state)
        if ProcessState.parse(to_state) is ProcessState.STARTING:
            record.starts += 1
            if record.starts > 1:
                record.restarts += 1

    def evaluate(self, table: Mapping[str, ProcessFacts]) -> list[Action]:
        """Actions due now, given every service's current facts."""
        now_us = self._clock.now_us()
        previous_us = self._last_eval_us if self._last_eval_us is not None else now_us
        self._last_eval_us = now_us
        actions = []
        for spec in self._services.services:
            facts = table.get(spec.name)
            if facts is None:
                continue
            record = self.records[spec.name]
            self._track(spec, record, facts)
            action = (
                self._fatal(spec, record, facts, now_us)
                or self._memory(spec, record, facts)
                or self._schedule(spec, facts, previous_us, now_us)
            )
            if action is not None:
                actions.append(self._record(action, record, now_us))
        return actions

    def due_health_checks(self) -> list[tuple[str, HealthSpec]]:
        """Services whose health check is due now (the adapter runs them, then reports back)."""
        mono = self._clock.monotonic()
        due = []
        for spec in self._services.services:
            record = self.records[spec.name]
            if spec.health is None or record.next_health is None or mono < record.next_health:
                continue
            record.next_health = mono + spec.health.interval_s
            due.append((spec.name, spec.health))
        return due

    def on_health_result(self, name: str, ok: bool, detail: str) -> list[Action]:
        spec, record = self._services.get(name), self.records.get(name)
        if spec is None or spec.health is None or record is None or record.running_since is None:
            return []  # removed, or stopped since the check began
        now_us = self._clock.now_us()
        record.health_checked_us = now_us
        record.health_detail = detail
        if ok:
            if record.health_ok is False:
                log.info("%s: health recovered (%s)", name, detail)
            record.health_ok, record.health_failures = True, 0
            return []
        record.health_ok = False
        record.health_failures += 1
        log.warning("%s: health check failed %d/%d: %s", name, record.health_failures, spec.health.failures, detail)
        if record.health_failures < spec.health.failures:
            return []
        failures, record.health_failures = record.health_failures, 0
        # No more checks until the new instance is seen running.
        record.next_health = None
        action = Action(
            ActionKind.RESTART, name, Reason.HEALTH, f"{failures} consecutive failed health checks: {detail}"
        )
        return [self._record(action, record, now_us)]

    def snapshot(self) -> dict[str, Any]:
        return {
            "updated_us": self._clock.now_us(),
            "services": {name: record.to_json() for name, record in self.records.items()},
        }

    # -- rules ---------------------------------------------------------------------------

    def _track(self, spec: ServiceSpec, record: ServiceRecord, facts: ProcessFacts) -> None:
        mono = self._clock.monotonic()
        record.rss_bytes = facts.rss_bytes if facts.state is ProcessState.RUNNING else None
        if facts.state is not ProcessState.RUNNING:
            record.running_since = None
            record.pid = 0
            record.next_health = None
            return
        if facts.pid != record.pid or record.running_since is None:
            # A new instance: its health history starts afresh.
            record.pid, record.running_since = facts.pid, mono
            record.health_failures, record.health_ok = 0, None
            record.next_health = mono + spec.health.interval_s if spec.health else None
        if record.recoveries and mono - record.running_since >= spec.backoff.max_s:
            log.info("%s: running stably for %.0fs, recovery backoff reset", spec.name, mono - record.running_since)
            record.recoveries = 0

    def _fatal(self, spec: ServiceSpec, record: ServiceRecord, facts: ProcessFacts, now_us: int) -> Action | None:
        if facts.state is not ProcessState.FATAL:
            record.fatal_until, record.next_recovery_us = None, None
            return None
        mono = self._clock.monotonic()
        if record.fatal_until is None:
            delay = spec.backoff.delay(record.recoveries)
            record.fatal_until = mono + delay
            record.next_recovery_us = now_us + round(delay * 1e6)
            log.warning("%s: FATAL; recovery %d in %.1fs", spec.name, record.recoveries + 1, delay)
            return None
        if mono < record.fatal_until:
            return None
        record.fatal_until, record.next_recovery_us = None, None
        record.recoveries += 1
        delay = spec.backoff.delay(record.recoveries - 1)
        return Action(
            ActionKind.START, spec.name, Reason.FATAL, f"recovery {record.recoveries} after {delay:g}s cool-down"
        )

    def _memory(self, spec: ServiceSpec, record: ServiceRecord, facts: ProcessFacts) -> Action | None:
        limit = spec.memory_limit_mb
        if limit is None or facts.state is not ProcessState.RUNNING or facts.rss_bytes is None:
            return None
        if facts.rss_bytes <= limit * MB:
            return None
        return Action(
            ActionKind.RESTART, spec.name, Reason.MEMORY, f"rss {facts.rss_bytes / MB:.1f} MB > limit {limit:g} MB"
        )

    def _schedule(self, spec: ServiceSpec, facts: ProcessFacts, previous_us: int, now_us: int) -> Action | None:
        if not spec.restart_at or facts.state is not ProcessState.RUNNING:
            return None
        passed = passed_times(spec.restart_at, previous_us, now_us)
        if not passed:
            return None
        return Action(ActionKind.RESTART, spec.name, Reason.SCHEDULE, f"scheduled at {passed[-1]:%H:%M:%S} New York")

    def _record(self, action: Action, record: ServiceRecord, now_us: int) -> Action:
        record.actions[action.reason.value] = record.actions.get(action.reason.value, 0) + 1
        record.last_action = {
            "action": action.kind.value,
            "reason": action.reason.value,
            "detail": action.detail,
            "at_us": now_us,
        }
        log.warning("%s", action)
        return action

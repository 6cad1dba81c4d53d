"""What the watch decides, as plain code: no sockets, no /proc, time from an injected clock.

Inputs: the process table (state, pid and tree RSS per service, read by the adapter), process
state changes (from supervisord's PROCESS_STATE events) and health-check results. Outputs:
`Action`s for the adapter to carry out, and per-service records for the state file.

Rules, each checked only while supervisord would not act on its own:
- memory: RUNNING with tree RSS above memory_limit_mb -> restart;
- health: `failures` consecutive failed checks while RUNNING -> restart (unless health.restart
  is false); a "degraded" answer is a pass for this rule;
- schedule: a restart_at New York time passed since the previous evaluation, on a day its rule
  admits (every day, NYSE trading days, or trading days without an early close), RUNNING ->
  restart;
- defer: with `defer_restarts`, memory and health restarts wait while NYSE's regular session is
  open, up to max_wait_s, and a memory restart never waits above memory_ceiling_mb;
- fatal: FATAL (supervisord gave up) for the cool-down `backoff.delay(n)` -> start again, where n
  counts recoveries since the service last ran stably for backoff.max_s.

Alerts (incidents.py): a service going FATAL and a restart loop, each a `Notice` at its start and
at its end, collected in `notices` for the adapter to send.

Bookkeeping from supervisord's events: RESTARTS counts new starts of an instance that had
reached RUNNING (not the retries of one that never did, which are counted as spawn failures),
and the last action names whatever last happened to the service, whoever did it.
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
from .health import Health
from .incidents import Incidents, Notice
from .market import Calendar
from .services import HealthSpec, ServicesFile, ServiceSpec
from .slots import service_of

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


_SERVING = (ProcessState.RUNNING, ProcessState.STOPPING)


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
    spawn_failures: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    last_action: dict[str, Any] | None = None
    rss_bytes: int | None = None
    health: Health | None = None
    health_failures: int = 0
    health_detail: str = ""
    health_checked_us: int | None = None
    recoveries: int = 0
    next_recovery_us: int | None = None
    deferred_us: dict[str, int] = field(default_factory=dict)
    # Not persisted: bookkeeping on the monotonic clock and between events.
    pid: int = 0
    running_since: float | None = None
    fatal_until: float | None = None
    next_health: float | None = None
    was_running: bool = False
    watch_restart: bool = False
    exit_detail: str = ""
    deferred_since: dict[str, float] = field(default_factory=dict)
    slots: dict[str, ProcessState] = field(default_factory=dict)  # a handover service's, by program

    def to_json(self) -> dict[str, Any]:
        return {
            "starts": self.starts,
            "restarts": self.restarts,
            "spawn_failures": self.spawn_failures,
            "actions": dict(self.actions),
            "last_action": self.last_action,
            "rss_bytes": self.rss_bytes,
            "health": {
                "status": self.health,
                "consecutive_failures": self.health_failures,
                "detail": self.health_detail,
                "checked_us": self.health_checked_us,
            },
            "recoveries": self.recoveries,
            "next_recovery_us": self.next_recovery_us,
            "deferred_us": dict(self.deferred_us),
        }

    @classmethod
    def restored(cls, saved: Mapping[str, Any]) -> ServiceRecord:
        """A record carrying the counters a previous watch saved (the watch itself may restart)."""
        record = cls()
        for key in ("starts", "restarts", "spawn_failures", "recoveries"):
            if isinstance(saved.get(key), int):
                setattr(record, key, saved[key])
        if isinstance(saved.get("actions"), dict):
            record.actions = {str(k): int(v) for k, v in saved["actions"].items()}
        if isinstance(saved.get("last_action"), dict):
            record.last_action = dict(saved["last_action"])
        return record


def _event(action: str, reason: str, detail: str, at_us: int) -> dict[str, Any]:
    return {"action": action, "reason": reason, "detail": detail, "at_us": at_us}


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
    def __init__(
        self,
        services: ServicesFile,
        clock: Clock,
        *,
        calendar: Calendar | None = None,
        saved: Mapping[str, Any] | None = None,
    ) -> None:
        self._clock = clock
        self._calendar = calendar
        self._services = services
        saved = saved or {}
        self.records: dict[str, ServiceRecord] = {
            s.name: ServiceRecord.restored(saved.get(s.name) or {}) for s in services.services
        }
        self._last_eval_us: int | None = None
        self.incidents = Incidents(services.restart_loop, clock)
        self.notices: list[Notice] = []

    def take_notices(self) -> list[Notice]:
        """The alerts due since the last call (the adapter sends them)."""
        notices, self.notices = self.notices, []
        return notices

    @property
    def calendar(self) -> Calendar:
        if self._calendar is None:
            from .market import calendar

            self._calendar = calendar()
        return self._calendar

    @property
    def services(self) -> ServicesFile:
        return self._services

    def configure(self, services: ServicesFile) -> None:
        """Take a reloaded services file; records of services that remain are kept."""
        self._services = services
        self.records = {s.name: self.records.get(s.name) or ServiceRecord() for s in services.services}
        self.incidents.loop = services.restart_loop
        self.incidents.forget(set(self.records))

    def on_process_state(
        self, name: str, from_state: str, to_state: str, fields: Mapping[str, str] | None = None
    ) -> None:
        """A PROCESS_STATE event of a program: count restarts and spawn failures, note what
        happened. A handover service's slots count as one service: the successor starting
        beside the serving slot is its restart, the old slot's exit after it the handover's end."""
        record = self.records.get(service_of(name))
        if record is None:
            return
        fields = fields or {}
        log.info("%s: %s -> %s", name, from_state, to_state)
        now_us = self._clock.now_us()
        state = ProcessState.parse(to_state)
        beside = [other for other, st in record.slots.items() if other != name and st in _SERVING]
        record.slots[name] = state
        if beside and state in (ProcessState.EXITED, ProcessState.STOPPED):
            return  # the old slot leaving, or a successor that failed: the service still serves
        if beside and state is ProcessState.STARTING and record.was_running:
            record.starts += 1
            record.restarts += 1
            record.was_running = False
            if not record.watch_restart:
                record.last_action = _event(
                    "restart", "command", f"handed over: {name} starts beside {beside[0]}", now_us
                )
            record.watch_restart = False
            return
        if state is ProcessState.RUNNING:
            record.was_running = True
        elif state is ProcessState.STARTING:
            record.starts += 1
            if record.was_running:
                record.restarts += 1
                record.was_running = False
                if not record.watch_restart:
                    how = record.exit_detail or "stopped, then started again by a command"
                    reason = "exit" if record.exit_detail else "command"
                    record.last_action = _event("restart", reason, how, now_us)
            record.watch_restart = False
            record.exit_detail = ""
        elif state is ProcessState.BACKOFF:
            record.spawn_failures += 1
            record.last_action = _event("retry", "spawn", "exited before start_secs; supervisord retries", now_us)
            self.notices += self.incidents.unplanned_restart(service_of(name), "exited before start_secs")
        elif state is ProcessState.FATAL:
            record.last_action = _event("gave up", "fatal", "too many failed starts: FATAL", now_us)
            self.notices += self.incidents.fatal(service_of(name))
        elif state is ProcessState.EXITED:
            expected = "as expected" if fields.get("expected") == "1" else "unexpectedly"
            record.exit_detail = f"pid {fields.get('pid', '?')} exited {expected}"
            if fields.get("expected") != "1":
                self.notices += self.incidents.unplanned_restart(service_of(name), record.exit_detail)
            if not record.watch_restart:
                record.last_action = _event("exited", "exit", record.exit_detail, now_us)
        elif state is ProcessState.STOPPED and not record.watch_restart:
            record.last_action = _event("stopped", "command", "stopped", now_us)

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
            self._incidents(spec, record, facts)
            action = (
                self._fatal(spec, record, facts, now_us)
                or self._memory(spec, record, facts, now_us)
                or self._deferred_health(spec, record, facts, now_us)
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

    def on_health_result(self, name: str, health: Health, detail: str) -> list[Action]:
        spec, record = self._services.get(name), self.records.get(name)
        if spec is None or spec.health is None or record is None or record.running_since is None:
            return []  # removed, or stopped since the check began
        now_us = self._clock.now_us()
        record.health_checked_us = now_us
        record.health_detail = detail
        if health != "failing":
            if record.health != health and record.health is not None:
                log.info("%s: health %s (%s)", name, health, detail)
            record.health, record.health_failures = health, 0
            self._clear_deferral(record, Reason.HEALTH)
            return []
        record.health = "failing"
        record.health_failures += 1
        log.warning("%s: health check failed %d/%d: %s", name, record.health_failures, spec.health.failures, detail)
        if record.health_failures < spec.health.failures or not spec.health.restart:
            return []
        action = Action(
            ActionKind.RESTART,
            name,
            Reason.HEALTH,
            f"{record.health_failures} consecutive failed health checks: {detail}",
        )
        if not self._may_restart(spec, record, action, now_us):
            return []
        return [self._health_restart(record, action, now_us)]

    def snapshot(self) -> dict[str, Any]:
        return {
            "updated_us": self._clock.now_us(),
            "services": {name: record.to_json() for name, record in self.records.items()},
        }

    # -- rules ---------------------------------------------------------------------------

    def _incidents(self, spec: ServiceSpec, record: ServiceRecord, facts: ProcessFacts) -> None:
        if facts.state is ProcessState.FATAL:
            self.notices += self.incidents.fatal(spec.name)
            return
        healthy = facts.state is ProcessState.RUNNING and (spec.health is None or record.health in ("ok", "degraded"))
        self.notices += self.incidents.observe(spec.name, healthy=healthy, running_since=record.running_since)

    def _track(self, spec: ServiceSpec, record: ServiceRecord, facts: ProcessFacts) -> None:
        mono = self._clock.monotonic()
        record.rss_bytes = facts.rss_bytes if facts.state is ProcessState.RUNNING else None
        if facts.state is not ProcessState.RUNNING:
            record.running_since = None
            record.pid = 0
            record.next_health = None
            record.deferred_since.clear()
            record.deferred_us.clear()
            return
        if facts.pid != record.pid or record.running_since is None:
            # A new instance: its health history starts afresh, with a first check at once.
            record.pid, record.running_since = facts.pid, mono
            record.health_failures, record.health = 0, None
            record.next_health = mono if spec.health else None
            record.deferred_since.clear()
            record.deferred_us.clear()
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

    def _memory(self, spec: ServiceSpec, record: ServiceRecord, facts: ProcessFacts, now_us: int) -> Action | None:
        limit = spec.memory_limit_mb
        if limit is None or facts.state is not ProcessState.RUNNING or facts.rss_bytes is None:
            return None
        if facts.rss_bytes <= limit * MB:
            self._clear_deferral(record, Reason.MEMORY)
            return None
        action = Action(
            ActionKind.RESTART, spec.name, Reason.MEMORY, f"rss {facts.rss_bytes / MB:.1f} MB > limit {limit:g} MB"
        )
        ceiling = spec.defer_restarts.memory_ceiling_mb if spec.defer_restarts else None
        if ceiling is not None and facts.rss_bytes > ceiling * MB:
            return Action(
                action.kind, action.service, action.reason, f"{action.detail}, above the ceiling {ceiling:g} MB"
            )
        return action if self._may_restart(spec, record, action, now_us) else None

    def _deferred_health(
        self, spec: ServiceSpec, record: ServiceRecord, facts: ProcessFacts, now_us: int
    ) -> Action | None:
        """A health restart that was deferred, once it may happen (no new check needed)."""
        if Reason.HEALTH.value not in record.deferred_since or facts.state is not ProcessState.RUNNING:
            return None
        action = Action(
            ActionKind.RESTART,
            spec.name,
            Reason.HEALTH,
            f"{record.health_failures} consecutive failed health checks: {record.health_detail}",
        )
        if not self._may_restart(spec, record, action, now_us):
            return None
        record.health_failures, record.next_health = 0, None
        return action

    def _health_restart(self, record: ServiceRecord, action: Action, now_us: int) -> Action:
        record.health_failures = 0
        # No more checks until the new instance is seen running.
        record.next_health = None
        return self._record(action, record, now_us)

    def _may_restart(self, spec: ServiceSpec, record: ServiceRecord, action: Action, now_us: int) -> bool:
        """False while a memory or health restart is deferred out of NYSE's regular session."""
        defer = spec.defer_restarts
        if defer is None or not self.calendar.in_regular_session(now_us):
            self._clear_deferral(record, action.reason)
            return True
        mono = self._clock.monotonic()
        since = record.deferred_since.get(action.reason.value)
        if since is None:
            record.deferred_since[action.reason.value] = mono
            record.deferred_us[action.reason.value] = now_us
            record.last_action = _event(
                "deferred restart",
                action.reason.value,
                f"{action.detail}; waits for the end of regular hours, at most {defer.max_wait_s:g}s",
                now_us,
            )
            log.warning("%s: restart deferred (%s)", spec.name, action.detail)
            return False
        if mono - since < defer.max_wait_s:
            return False
        self._clear_deferral(record, action.reason)
        return True

    @staticmethod
    def _clear_deferral(record: ServiceRecord, reason: Reason) -> None:
        record.deferred_since.pop(reason.value, None)
        record.deferred_us.pop(reason.value, None)

    def _schedule(self, spec: ServiceSpec, facts: ProcessFacts, previous_us: int, now_us: int) -> Action | None:
        if not spec.restart_at or facts.state is not ProcessState.RUNNING:
            return None
        passed = [moment for moment in passed_times(spec.restart_at, previous_us, now_us) if self._admits(spec, moment)]
        if not passed:
            return None
        return Action(ActionKind.RESTART, spec.name, Reason.SCHEDULE, f"scheduled at {passed[-1]:%H:%M:%S} New York")

    def _admits(self, spec: ServiceSpec, moment: dt.datetime) -> bool:
        """Whether the service's day rule lets a scheduled restart happen on `moment`'s New York day."""
        if spec.restart_days == "every_day":
            return True
        full = spec.restart_days == "full_trading_days"
        return self.calendar.is_session_day(moment.date(), full_days_only=full)

    def _record(self, action: Action, record: ServiceRecord, now_us: int) -> Action:
        record.actions[action.reason.value] = record.actions.get(action.reason.value, 0) + 1
        record.last_action = _event(action.kind.value, action.reason.value, action.detail, now_us)
        record.watch_restart = action.kind is ActionKind.RESTART
        log.warning("%s", action)
        return action

"""The watch policy with a fake clock and a fake process table: no supervisord, no sleeping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pmdaemon.policy import (
    MB,
    NEW_YORK,
    Action,
    ActionKind,
    ProcessFacts,
    ProcessState,
    Reason,
    WatchPolicy,
    passed_times,
)
from pmdaemon.services import ServicesFile, parse_services

RUNNING, FATAL, STOPPED = ProcessState.RUNNING, ProcessState.FATAL, ProcessState.STOPPED


class FakeClock:
    def __init__(self, wall: dt.datetime) -> None:
        self.wall_us = int(wall.timestamp() * 1_000_000)
        self.mono = 1000.0

    def now_us(self) -> int:
        return self.wall_us

    def monotonic(self) -> float:
        return self.mono

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall_us += round(seconds * 1_000_000)


def services(**fields: Any) -> ServicesFile:
    body = ", ".join(f"{k}: {v}" for k, v in fields.items())
    text = f'{{services: [{{name: "svc", command: "x", {body}}}]}}'
    return parse_services(text, source=Path("s.json5"), base_dir=Path("/"), state_dir=Path("/state"))


def ny(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, 9, hour, minute, second, tzinfo=NEW_YORK)


def table(state: ProcessState = RUNNING, pid: int = 100, rss_mb: float = 10) -> dict[str, ProcessFacts]:
    return {"svc": ProcessFacts(state, pid if state is RUNNING else 0, int(rss_mb * MB))}


def test_memory_over_limit_restarts() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(memory_limit_mb=100), clock)
    assert policy.evaluate(table(rss_mb=100)) == []
    (action,) = policy.evaluate(table(rss_mb=100.5))
    assert action == Action(ActionKind.RESTART, "svc", Reason.MEMORY, "rss 100.5 MB > limit 100 MB")
    assert policy.records["svc"].actions == {"memory": 1}
    # Only RUNNING processes are judged.
    assert policy.evaluate(table(ProcessState.STOPPING, rss_mb=500)) == []


def test_health_restarts_after_n_consecutive_failures() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(health='{url: "http://h/", interval_s: 5, failures: 3}'), clock)
    policy.evaluate(table())
    assert policy.due_health_checks() == []  # first check one interval after the instance is seen
    clock.advance(5)
    assert [name for name, _ in policy.due_health_checks()] == ["svc"]
    assert policy.due_health_checks() == []
    assert policy.on_health_result("svc", False, "HTTP 500") == []
    assert policy.on_health_result("svc", True, "HTTP 200") == []  # a success resets the count
    assert policy.on_health_result("svc", False, "HTTP 500") == []
    assert policy.on_health_result("svc", False, "timed out") == []
    (action,) = policy.on_health_result("svc", False, "HTTP 503")
    assert action == Action(ActionKind.RESTART, "svc", Reason.HEALTH, "3 consecutive failed health checks: HTTP 503")
    clock.advance(5)
    assert policy.due_health_checks() == []  # until the new instance runs
    policy.evaluate(table(pid=101))
    assert policy.records["svc"].health_failures == 0
    clock.advance(5)
    assert len(policy.due_health_checks()) == 1


def test_scheduled_restart_at_new_york_time_fires_once() -> None:
    clock = FakeClock(ny(8, 54, 58))
    policy = WatchPolicy(services(restart_at='["08:55"]'), clock)
    assert policy.evaluate(table()) == []
    clock.advance(1)
    assert policy.evaluate(table()) == []
    clock.advance(1)
    (action,) = policy.evaluate(table())
    assert action == Action(ActionKind.RESTART, "svc", Reason.SCHEDULE, "scheduled at 08:55:00 New York")
    clock.advance(1)
    assert policy.evaluate(table(pid=101)) == []
    clock.advance(86400)
    assert [a.reason for a in policy.evaluate(table(pid=101))] == [Reason.SCHEDULE]


def test_scheduled_restart_skips_a_service_that_is_not_running() -> None:
    clock = FakeClock(ny(8, 54, 59))
    policy = WatchPolicy(services(restart_at='["08:55"]'), clock)
    policy.evaluate(table(STOPPED))
    clock.advance(2)
    assert policy.evaluate(table(STOPPED)) == []


def test_passed_times_follow_new_york_across_dst() -> None:
    # 2026-03-08 is the spring-forward day: 08:55 New York is 12:55 UTC after it, 13:55 before.
    before = dt.datetime(2026, 3, 7, 14, 0, tzinfo=dt.UTC)
    after = dt.datetime(2026, 3, 8, 13, 0, tzinfo=dt.UTC)
    (moment,) = passed_times((dt.time(8, 55),), int(before.timestamp() * 1e6), int(after.timestamp() * 1e6))
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 3, 8, 12, 55, tzinfo=dt.UTC)


def test_fatal_is_recovered_after_an_exponential_capped_cool_down() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(backoff="{initial_s: 10, factor: 2, max_s: 25}"), clock)
    delays = []
    for _ in range(4):
        assert policy.evaluate(table(FATAL)) == []  # FATAL seen: the cool-down starts
        waited = 0
        while not (actions := policy.evaluate(table(FATAL))):
            clock.advance(1)
            waited += 1
        assert actions[0].kind is ActionKind.START and actions[0].reason is Reason.FATAL
        delays.append(waited)
        policy.evaluate(table(ProcessState.STARTING))
    assert delays == [10, 20, 25, 25]
    assert policy.records["svc"].actions == {"fatal": 4}
    assert actions[0].detail == "recovery 4 after 25s cool-down"


def test_fatal_backoff_resets_after_a_stable_run() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(backoff="{initial_s: 10, factor: 2, max_s: 60}"), clock)
    policy.evaluate(table(FATAL))
    clock.advance(10)
    assert policy.evaluate(table(FATAL))
    assert policy.records["svc"].recoveries == 1
    policy.evaluate(table())
    clock.advance(60)
    policy.evaluate(table())
    assert policy.records["svc"].recoveries == 0
    policy.evaluate(table(FATAL))
    clock.advance(9.5)
    assert policy.evaluate(table(FATAL)) == []
    clock.advance(0.5)
    assert policy.evaluate(table(FATAL))


def test_process_state_events_count_restarts_and_snapshot_is_json() -> None:
    policy = WatchPolicy(services(), FakeClock(ny(10, 0)))
    policy.on_process_state("svc", "STOPPED", "STARTING")
    policy.on_process_state("svc", "STARTING", "RUNNING")
    policy.on_process_state("svc", "EXITED", "STARTING")
    policy.on_process_state("other", "STOPPED", "STARTING")
    snapshot = policy.snapshot()
    assert snapshot["services"]["svc"]["starts"] == 2 and snapshot["services"]["svc"]["restarts"] == 1
    assert set(snapshot["services"]) == {"svc"}


def test_configure_keeps_records_of_remaining_services() -> None:
    policy = WatchPolicy(services(), FakeClock(ny(10, 0)))
    policy.on_process_state("svc", "EXITED", "STARTING")
    policy.on_process_state("svc", "EXITED", "STARTING")
    policy.configure(services(memory_limit_mb=5))
    assert policy.records["svc"].restarts == 1

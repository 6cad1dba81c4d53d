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
    # The first check as soon as the instance is seen running, then one per interval.
    assert [name for name, _ in policy.due_health_checks()] == ["svc"]
    assert policy.due_health_checks() == []
    clock.advance(5)
    assert [name for name, _ in policy.due_health_checks()] == ["svc"]
    assert policy.on_health_result("svc", "failing", "HTTP 500") == []
    assert policy.on_health_result("svc", "ok", "HTTP 200") == []  # a success resets the count
    assert policy.on_health_result("svc", "failing", "HTTP 500") == []
    assert policy.on_health_result("svc", "degraded", "HTTP 200 degraded") == []  # a pass, too
    assert policy.records["svc"].health == "degraded" and policy.records["svc"].health_failures == 0
    assert policy.on_health_result("svc", "failing", "HTTP 500") == []
    assert policy.on_health_result("svc", "failing", "timed out") == []
    (action,) = policy.on_health_result("svc", "failing", "HTTP 503")
    assert action == Action(ActionKind.RESTART, "svc", Reason.HEALTH, "3 consecutive failed health checks: HTTP 503")
    clock.advance(5)
    assert policy.due_health_checks() == []  # until the new instance runs
    policy.evaluate(table(pid=101))
    assert policy.records["svc"].health_failures == 0 and policy.records["svc"].health is None
    assert len(policy.due_health_checks()) == 1


def test_health_without_restart_only_reports() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(health='{url: "http://h/", failures: 1, restart: false}'), clock)
    policy.evaluate(table())
    for _ in range(3):
        assert policy.on_health_result("svc", "failing", "HTTP 503") == []
    assert policy.records["svc"].health == "failing" and policy.records["svc"].health_failures == 3


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


def events(policy: WatchPolicy, *transitions: str, **fields: str) -> None:
    """Feed PROCESS_STATE events: "STOPPED>STARTING" ..."""
    for transition in transitions:
        before, after = transition.split(">")
        policy.on_process_state("svc", before, after, fields)


def test_restarts_count_new_starts_of_a_running_instance_not_failed_spawns() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(), clock)
    events(policy, "STOPPED>STARTING", "STARTING>RUNNING")
    # Killed: supervisord restarts it, but the port is taken, so the spawns fail before FATAL.
    events(policy, "RUNNING>EXITED", expected="0", pid="41")
    assert policy.records["svc"].last_action == {
        "action": "exited",
        "reason": "exit",
        "detail": "pid 41 exited unexpectedly",
        "at_us": clock.wall_us,
    }
    clock.advance(1)
    events(policy, "EXITED>STARTING")
    last = policy.records["svc"].last_action
    assert last is not None and (last["action"], last["reason"]) == ("restart", "exit")
    assert last["at_us"] == clock.wall_us
    events(policy, *["STARTING>BACKOFF", "BACKOFF>STARTING"] * 3, "STARTING>FATAL")
    record = policy.records["svc"]
    assert (record.starts, record.restarts, record.spawn_failures) == (5, 1, 3)
    assert record.last_action is not None and record.last_action["action"] == "gave up"
    events(policy, "FATAL>STARTING", "STARTING>RUNNING", "RUNNING>STOPPING", "STOPPING>STOPPED")
    assert policy.records["svc"].last_action["action"] == "stopped"  # type: ignore[index]
    events(policy, "STOPPED>STARTING")
    assert policy.records["svc"].restarts == 2
    assert policy.records["svc"].last_action["reason"] == "command"  # type: ignore[index]
    snapshot = policy.snapshot()
    assert snapshot["services"]["svc"]["restarts"] == 2 and snapshot["services"]["svc"]["spawn_failures"] == 3
    assert set(snapshot["services"]) == {"svc"}


def test_a_restart_by_the_watch_stays_the_last_action() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(memory_limit_mb=100), clock)
    events(policy, "STOPPED>STARTING", "STARTING>RUNNING")
    assert [a.reason for a in policy.evaluate(table(rss_mb=200))] == [Reason.MEMORY]
    events(policy, "RUNNING>STOPPING", "STOPPING>STOPPED", "STOPPED>STARTING", "STARTING>RUNNING")
    assert policy.records["svc"].last_action["reason"] == "memory"  # type: ignore[index]
    assert policy.records["svc"].restarts == 1


def test_counters_survive_a_new_watch() -> None:
    policy = WatchPolicy(services(), FakeClock(ny(10, 0)))
    events(policy, "STOPPED>STARTING", "STARTING>RUNNING", "RUNNING>EXITED", "EXITED>STARTING")
    saved = policy.snapshot()["services"]
    again = WatchPolicy(services(), FakeClock(ny(11, 0)), saved=saved)
    assert again.records["svc"].restarts == 1 and again.records["svc"].last_action == saved["svc"]["last_action"]


def test_configure_keeps_records_of_remaining_services() -> None:
    policy = WatchPolicy(services(), FakeClock(ny(10, 0)))
    events(policy, "STOPPED>STARTING", "STARTING>RUNNING", "RUNNING>EXITED", "EXITED>STARTING")
    policy.configure(services(memory_limit_mb=5))
    assert policy.records["svc"].restarts == 1


class FakeCalendar:
    """Regular session 09:30-16:00 on weekdays; `closed` days and `early` days as given."""

    def __init__(self, closed: set[dt.date] = set(), early: set[dt.date] = set()) -> None:  # noqa: B006
        self.closed, self.early = closed, early

    def is_session_day(self, day: dt.date, *, full_days_only: bool) -> bool:
        return day.weekday() < 5 and day not in self.closed and not (full_days_only and day in self.early)

    def in_regular_session(self, ts_us: int) -> bool:
        moment = dt.datetime.fromtimestamp(ts_us / 1e6, NEW_YORK)
        return self.is_session_day(moment.date(), full_days_only=False) and dt.time(9, 30) <= moment.time() < dt.time(
            16
        )


def test_scheduled_restart_on_trading_days_skips_weekends_holidays_and_early_closes() -> None:
    # Friday 2026-04-03 is Good Friday; Thursday 2026-04-02 an early close in this fake.
    clock = FakeClock(dt.datetime(2026, 3, 29, 9, 0, tzinfo=NEW_YORK))
    calendar = FakeCalendar(closed={dt.date(2026, 4, 3)}, early={dt.date(2026, 4, 2)})
    for days, expected in (
        ("every_day", [30, 31, 1, 2, 3, 4, 5]),
        ("trading_days", [30, 31, 1, 2]),
        ("full_trading_days", [30, 31, 1]),
    ):
        clock.wall_us = int(dt.datetime(2026, 3, 29, 9, 0, tzinfo=NEW_YORK).timestamp() * 1e6)
        policy = WatchPolicy(services(restart_at=f'{{at: ["08:55"], days: "{days}"}}'), clock, calendar=calendar)
        fired = []
        policy.evaluate(table())
        for _ in range(7):
            clock.advance(86400)
            if policy.evaluate(table()):
                fired.append(dt.datetime.fromtimestamp(clock.wall_us / 1e6, NEW_YORK).day)
        assert fired == expected, days


def test_memory_and_health_restarts_wait_for_the_close_within_limits() -> None:
    clock = FakeClock(ny(15, 0))  # Monday 2026-03-09, regular session
    defer = "{max_wait_s: 7200, memory_ceiling_mb: 300}"
    spec = services(memory_limit_mb=100, defer_restarts=defer, health='{url: "http://h/", failures: 1}')
    policy = WatchPolicy(spec, clock, calendar=FakeCalendar())
    assert policy.evaluate(table(rss_mb=200)) == []
    last = policy.records["svc"].last_action
    assert last is not None and last["action"] == "deferred restart" and "rss 200.0 MB" in last["detail"]
    assert policy.on_health_result("svc", "failing", "HTTP 500") == []  # deferred too
    clock.advance(1800)
    assert policy.evaluate(table(rss_mb=200)) == []
    # Above the hard ceiling a memory restart is never deferred.
    (action,) = policy.evaluate(table(rss_mb=350))
    assert action.reason is Reason.MEMORY and "above the ceiling 300 MB" in action.detail
    # The new instance: health fails again; at 16:00 the deferred restart happens.
    policy.evaluate(table(pid=101))
    assert policy.on_health_result("svc", "failing", "HTTP 500") == []
    clock.advance(1800)  # 16:00
    (action,) = policy.evaluate(table(pid=101))
    assert action.reason is Reason.HEALTH


def test_deferred_restart_happens_after_max_wait() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(
        services(memory_limit_mb=100, defer_restarts="{max_wait_s: 600}"), clock, calendar=FakeCalendar()
    )
    assert policy.evaluate(table(rss_mb=200)) == []
    clock.advance(599)
    assert policy.evaluate(table(rss_mb=200)) == []
    clock.advance(1)
    assert [a.reason for a in policy.evaluate(table(rss_mb=200))] == [Reason.MEMORY]
    # A deferral ends when the condition does.
    clock.advance(1)
    assert policy.evaluate(table(pid=101, rss_mb=200)) == []
    policy.evaluate(table(pid=101, rss_mb=50))
    assert policy.records["svc"].deferred_us == {}


def test_the_real_calendar_knows_nyse_holidays_and_early_closes() -> None:
    from pmdaemon.market import calendar

    nyse = calendar()
    assert not nyse.is_session_day(dt.date(2026, 4, 3), full_days_only=False)  # Good Friday
    assert nyse.is_session_day(dt.date(2026, 11, 27), full_days_only=False)  # day after Thanksgiving
    assert not nyse.is_session_day(dt.date(2026, 11, 27), full_days_only=True)  # ... closes at 13:00
    assert nyse.in_regular_session(int(ny(10, 0).timestamp() * 1e6))
    assert not nyse.in_regular_session(int(ny(16, 0).timestamp() * 1e6))


def test_a_handover_is_one_restart_and_the_old_slots_exit_is_not_news() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(port=8000, handover="true"), clock)
    for program, transition in [
        ("svc@a", "STOPPED>STARTING"),
        ("svc@a", "STARTING>RUNNING"),
        ("svc@b", "STOPPED>STARTING"),
        ("svc@b", "STARTING>RUNNING"),
        ("svc@a", "RUNNING>EXITED"),
    ]:
        policy.on_process_state(program, *transition.split(">"), {"expected": "1", "pid": "41"})
    record = policy.records["svc"]
    assert (record.starts, record.restarts) == (2, 1)
    assert record.last_action is not None and record.last_action["detail"] == "handed over: svc@b starts beside svc@a"
    # The serving slot killed with nothing beside it: an exit and a restart, as for any service.
    policy.on_process_state("svc@b", "RUNNING", "EXITED", {"expected": "0", "pid": "42"})
    assert record.last_action["detail"] == "pid 42 exited unexpectedly"
    policy.on_process_state("svc@b", "EXITED", "STARTING")
    assert record.restarts == 2 and record.last_action["reason"] == "exit"

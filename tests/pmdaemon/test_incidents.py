"""The watch's alerts (a service going FATAL, a restart loop) as plain code: a fake clock, fake
events and a fake process table; one start and one end per incident, with its duration."""

from __future__ import annotations

from pathlib import Path

import pytest

from pmdaemon.errors import ConfigError
from pmdaemon.incidents import IncidentKind, Incidents, Notice
from pmdaemon.policy import ProcessState, WatchPolicy
from pmdaemon.services import AlertsSpec, RestartLoopSpec, parse_services
from tests.pmdaemon.test_policy import FakeClock, ny, services, table

LOOP, FATAL_KIND = IncidentKind.RESTART_LOOP, IncidentKind.FATAL


def phases(notices: list[Notice]) -> list[tuple[str, IncidentKind, str]]:
    return [(n.service, n.kind, n.phase) for n in notices]


def test_fatal_is_one_start_and_one_end_with_its_duration() -> None:
    clock = FakeClock(ny(10, 0))
    incidents = Incidents(RestartLoopSpec(), clock)
    (start,) = incidents.fatal("svc")
    assert start.subject == "svc fatal" and start.phase == "start" and "FATAL" in start.text
    assert incidents.fatal("svc") == []  # seen again at the next evaluation: already announced
    clock.advance(75)
    assert incidents.observe("svc", healthy=False, running_since=clock.mono) == []  # running, not healthy yet
    clock.advance(5)
    (end,) = incidents.observe("svc", healthy=True, running_since=clock.mono - 5)
    assert end.phase == "end" and end.duration_s == pytest.approx(80)
    assert end.text == "svc: running and healthy again after 1m20s (was FATAL)"
    assert incidents.observe("svc", healthy=True, running_since=clock.mono) == []


def test_a_restart_loop_is_n_unplanned_restarts_within_the_window() -> None:
    clock = FakeClock(ny(10, 0))
    incidents = Incidents(RestartLoopSpec(restarts=3, within_s=60, stable_s=30), clock)
    assert incidents.unplanned_restart("svc", "pid 1 exited unexpectedly") == []
    clock.advance(61)  # the first falls out of the window
    assert incidents.unplanned_restart("svc", "pid 2 exited unexpectedly") == []
    clock.advance(20)
    assert incidents.unplanned_restart("svc", "pid 3 exited unexpectedly") == []
    clock.advance(20)
    (start,) = incidents.unplanned_restart("svc", "pid 4 exited unexpectedly")
    assert start.subject == "svc restart loop"
    assert start.text == "svc: restart loop: 3 unplanned restarts within 1m00s (last: pid 4 exited unexpectedly)"
    clock.advance(5)
    assert incidents.unplanned_restart("svc", "pid 5 exited unexpectedly") == []  # the same loop


def test_a_restart_loop_ends_after_running_healthy_for_stable_s() -> None:
    clock = FakeClock(ny(10, 0))
    incidents = Incidents(RestartLoopSpec(restarts=2, within_s=60, stable_s=30), clock)
    incidents.unplanned_restart("svc", "x")
    clock.advance(1)
    assert phases(incidents.unplanned_restart("svc", "x")) == [("svc", LOOP, "start")]
    started = clock.mono + 1
    clock.advance(29)
    assert incidents.observe("svc", healthy=True, running_since=started) == []  # 28 s up: not yet
    clock.advance(2)
    (end,) = incidents.observe("svc", healthy=True, running_since=started)
    assert end.phase == "end" and end.duration_s == pytest.approx(31)
    assert end.text.endswith("(restart loop over)")
    # Over means over: the count starts again.
    assert incidents.unplanned_restart("svc", "x") == []


def test_no_loop_is_opened_while_fatal_says_it_already() -> None:
    clock = FakeClock(ny(10, 0))
    incidents = Incidents(RestartLoopSpec(restarts=2), clock)
    incidents.fatal("svc")
    assert incidents.unplanned_restart("svc", "x") == []
    assert incidents.unplanned_restart("svc", "x") == []
    assert incidents.is_open("svc", FATAL_KIND) and not incidents.is_open("svc", LOOP)


def test_policy_alerts_fatal_from_the_event_and_ends_it_when_healthy() -> None:
    clock = FakeClock(ny(10, 0))
    policy = WatchPolicy(services(health='{url: "http://h/", interval_s: 5}'), clock)
    policy.evaluate(table())
    policy.on_process_state("svc", "RUNNING", "EXITED", {"expected": "0", "pid": "100"})
    policy.on_process_state("svc", "EXITED", "STARTING")
    policy.on_process_state("svc", "STARTING", "BACKOFF")
    policy.on_process_state("svc", "BACKOFF", "FATAL")
    assert phases(policy.take_notices()) == [("svc", FATAL_KIND, "start")]
    policy.evaluate(table(ProcessState.FATAL))
    assert policy.take_notices() == []  # the table says FATAL too: still one start
    clock.advance(12)
    policy.evaluate(table(pid=200))  # running again (the watch's recovery), health not yet known
    assert policy.take_notices() == []
    policy.due_health_checks()
    policy.on_health_result("svc", "degraded", "HTTP 200 degraded")
    policy.evaluate(table(pid=200))
    (end,) = policy.take_notices()
    assert end.kind is FATAL_KIND and end.phase == "end" and end.duration_s == pytest.approx(12)


def test_policy_counts_unexpected_exits_and_failed_spawns_not_commands() -> None:
    clock = FakeClock(ny(10, 0))
    text = '{watch: {restart_loop: {restarts: 3, within_s: 60, stable_s: 10}}, services: [{name: "svc", command: "x"}]}'
    spec = parse_services(text, source=Path("s.json5"), base_dir=Path("/"), state_dir=Path("/state"))
    policy = WatchPolicy(spec, clock)
    policy.evaluate(table())
    for _ in range(3):  # stopped and started by commands: planned
        policy.on_process_state("svc", "RUNNING", "STOPPING")
        policy.on_process_state("svc", "STOPPING", "STOPPED")
        policy.on_process_state("svc", "STOPPED", "STARTING")
        policy.on_process_state("svc", "STARTING", "RUNNING")
    policy.on_process_state("svc", "RUNNING", "EXITED", {"expected": "1", "pid": "1"})  # an expected exit
    assert policy.take_notices() == []
    policy.on_process_state("svc", "RUNNING", "EXITED", {"expected": "0", "pid": "2"})
    policy.on_process_state("svc", "STARTING", "BACKOFF")
    clock.advance(1)
    policy.on_process_state("svc", "RUNNING", "EXITED", {"expected": "0", "pid": "3"})
    (start,) = policy.take_notices()
    assert start.kind is LOOP and "(last: pid 3 exited unexpectedly)" in start.text
    policy.evaluate(table(pid=4))
    clock.advance(10)
    policy.evaluate(table(pid=4))  # no health check: RUNNING is healthy
    assert phases(policy.take_notices()) == [("svc", LOOP, "end")]


def test_watch_section_parses_alerts_and_restart_loop() -> None:
    text = """{watch: {poll_s: 2, alerts: {webhook_url: "http://127.0.0.1:9/hook", min_interval_s: 0},
               restart_loop: {restarts: 4, within_s: 120}}, services: [{name: "svc", command: "x"}]}"""
    spec = parse_services(text, source=Path("s.json5"), base_dir=Path("/"), state_dir=Path("/state"))
    assert spec.alerts == AlertsSpec(webhook_url="http://127.0.0.1:9/hook", min_interval_s=0.0)
    assert spec.restart_loop == RestartLoopSpec(restarts=4, within_s=120.0, stable_s=60.0)
    default = parse_services(
        '{services: [{name: "svc", command: "x"}]}',
        source=Path("s.json5"),
        base_dir=Path("/"),
        state_dir=Path("/state"),
    )
    assert default.alerts is None and default.restart_loop == RestartLoopSpec(restarts=5, within_s=300.0, stable_s=60.0)


def test_watch_alerts_may_name_a_services_port() -> None:
    text = """{watch: {alerts: {speak_url: "http://127.0.0.1:${ports.speak}/speak"}},
               services: [{name: "speak", port: 8776, command: "x"}]}"""
    spec = parse_services(text, source=Path("s.json5"), base_dir=Path("/"), state_dir=Path("/state"))
    assert spec.alerts == AlertsSpec(speak_url="http://127.0.0.1:8776/speak")


@pytest.mark.parametrize(
    ("watch", "path", "reason"),
    [
        ("{alerts: {}}", "watch.alerts", "expected speak_url, webhook_url or both"),
        ('{alerts: {webhook_url: "ftp://x/"}}', "watch.alerts.webhook_url", "expected an http:// or https:// URL"),
        ('{alerts: {speak_url: "http://x/", url: 1}}', "watch.alerts.url", "unknown key 'url'"),
        ("{restart_loop: {restarts: 1}}", "watch.restart_loop.restarts", "expected an integer >= 2, found 1"),
        ("{restart_loop: {within_s: 0}}", "watch.restart_loop.within_s", "expected a number > 0"),
    ],
)
def test_watch_section_errors_name_the_path(watch: str, path: str, reason: str) -> None:
    text = f'{{watch: {watch}, services: [{{name: "svc", command: "x"}}]}}'
    with pytest.raises(ConfigError) as caught:
        parse_services(text, source=Path("s.json5"), base_dir=Path("/"), state_dir=Path("/state"))
    assert caught.value.path == path and reason in str(caught.value)

"""lib_common.alerts: the policy on a fake clock, the route's sender against a fake POST and a
real local HTTP server, the Reconnect and upstream hooks, the config section."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from lib_common import alerts
from lib_common.alerts import (
    Alert,
    AlertPolicy,
    AlertRoute,
    AlertsConfig,
    UpstreamAlerts,
    link_hook,
    read_alerts,
    spoken_duration,
)
from lib_common.config import parse_config
from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import Reconnect
from lib_common.core.upstream_manager import Transition
from lib_common.core.upstream_policy import UpstreamState
from lib_common.errors import ConfigErrors
from tests.webhook import Receiver


def alert(subject: str = "redis", phase: str = "start", text: str = "down") -> Alert:
    return Alert("svc", subject, phase, text, 0)


class Recorder:
    """A Route that keeps what it was told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, float | None]] = []

    def start(self, subject: str, text: str, **fields: object) -> None:
        self.calls.append(("start", subject, text, None))

    def end(self, subject: str, text: str, duration_s: float, **fields: object) -> None:
        self.calls.append(("end", subject, text, duration_s))

    def event(self, subject: str, text: str, **fields: object) -> None:
        self.calls.append(("event", subject, text, None))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    route = Recorder()
    alerts.install(route)
    yield route
    alerts.install(None)


# The policy


def test_one_start_and_one_end_per_outage() -> None:
    policy = AlertPolicy(min_interval_s=60)
    assert policy.start(alert(), 0.0) == [alert()]
    assert policy.start(alert(text="again"), 1.0) == []  # already out: repeated, not re-sent
    end = alert(phase="end", text="back")
    assert policy.end(end, 5.0) == [end]
    assert policy.end(end, 6.0) == []  # no outage open
    assert policy.counts == {"sent_start": 1, "sent_end": 1, "repeated": 1}


def test_a_flap_inside_the_interval_is_folded_and_a_long_outage_announced_late() -> None:
    policy = AlertPolicy(min_interval_s=60)
    assert len(policy.start(alert(), 0.0)) == 1
    assert len(policy.end(alert(phase="end"), 2.0)) == 1
    # Down again 10 s later: waits for the interval; back before it: neither is sent.
    assert policy.start(alert(), 10.0) == []
    assert policy.waiting() == 1
    assert policy.end(alert(phase="end"), 12.0) == []
    assert policy.counts["folded"] == 1
    # Down again and still down when the interval has passed: announced then, and its end too.
    assert policy.start(alert(text="third"), 20.0) == []
    assert policy.due(59.9) == []
    assert [a.text for a in policy.due(60.0)] == ["third"]
    assert policy.due(61.0) == []
    assert len(policy.end(alert(phase="end"), 70.0)) == 1


def test_subjects_are_independent_and_events_always_go() -> None:
    policy = AlertPolicy(min_interval_s=60)
    assert len(policy.start(alert("redis"), 0.0)) == 1
    assert len(policy.start(alert("postgres"), 0.5)) == 1
    assert policy.open_subjects == ["postgres", "redis"]
    assert len(policy.event(alert("x", "event"))) == 1
    assert len(policy.event(alert("x", "event"))) == 1


def test_spoken_duration() -> None:
    assert spoken_duration(0.4) == "0 seconds"
    assert spoken_duration(1) == "1 second"
    assert spoken_duration(45) == "45 seconds"
    assert spoken_duration(185) == "3 minutes 5 seconds"
    assert spoken_duration(120) == "2 minutes"
    assert spoken_duration(3660) == "1 hour 1 minute"


def test_bodies() -> None:
    start = Alert("server_sql", "server_sql consumer", "start", "down: refused", 1_700_000_000_000_000)
    assert start.speak_body() == {"text": "server_sql: down: refused", "priority": "high", "event": "outage_start"}
    end = Alert("svc", "redis", "end", "back", 1_700_000_000_000_000, 12.34567, {"failures": 3})
    body = end.webhook_body()
    assert body["phase"] == "end" and body["event"] == "outage_end" and body["duration_s"] == 12.346
    assert body["at"] == "2023-11-14T22:13:20.000+00:00" and body["fields"] == {"failures": 3}
    assert end.speak_body()["priority"] == "normal"


# The route


class FakePost:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.posted: list[tuple[str, dict[str, Any]]] = []
        self.sent = threading.Event()

    def __call__(self, url: str, body: bytes, timeout_s: float) -> None:
        if self.fail:
            raise OSError("connection refused")
        self.posted.append((url, json.loads(body)))
        self.sent.set()


def test_route_without_receivers_only_decides() -> None:
    route = AlertRoute(AlertsConfig(), "svc")
    route.run()
    route.start("redis", "down")
    assert route.figures()["sent_start"] == 1 and route._thread is None
    route.close()


def test_receiver_failures_logged_once_then_counted(caplog: pytest.LogCaptureFixture) -> None:
    post = FakePost(fail=True)
    route = AlertRoute(AlertsConfig(webhook_url="http://127.0.0.1:9/hook", min_interval_s=0), "svc", post=post)
    receiver = route.receivers[0]
    with caplog.at_level(logging.INFO, logger="lib_common.alerts"):
        for n in range(5):
            assert route.deliver(receiver, alert(text=f"n{n}")) is False
        post.fail = False
        assert route.deliver(receiver, alert()) is True
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "not answering" in warnings[0].getMessage()
    assert any("answers again (5 alert(s) lost)" in r.getMessage() for r in caplog.records)
    assert receiver.failures == 5 and receiver.sent == 1


def test_a_full_queue_drops_without_blocking() -> None:
    # No thread runs: nothing takes from the queue, so it fills.
    route = AlertRoute(AlertsConfig(speak_url="http://127.0.0.1:9/speak", queue_size=2, min_interval_s=0), "svc")
    started = time.monotonic()
    for n in range(10):
        route.start(f"s{n}", "down")
    assert time.monotonic() - started < 1.0
    assert route.dropped == 8


def test_a_failing_policy_never_raises_into_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    route = AlertRoute(AlertsConfig(), "svc")

    def broken(alert: Alert, now: float) -> list[Alert]:
        raise RuntimeError("bug")

    monkeypatch.setattr(route.policy, "start", broken)
    route.start("redis", "down")  # logged, not raised


def test_waiting_start_goes_out_from_the_sender_thread() -> None:
    clock = [0.0]
    post = FakePost()
    route = AlertRoute(
        AlertsConfig(webhook_url="http://hook/", min_interval_s=60),
        "svc",
        post=post,
        monotonic=lambda: clock[0],
        tick_s=0.01,
    )
    route.run()
    try:
        route.start("redis", "down")
        route.end("redis", "back", 1.0)
        route.start("redis", "down again")  # inside the interval: waits
        deadline = time.monotonic() + 5
        while len(post.posted) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [b["text"] for _, b in post.posted] == ["down", "back"]
        clock[0] = 61.0  # the thread's next tick finds it due
        deadline = time.monotonic() + 5
        while len(post.posted) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [b["text"] for _, b in post.posted] == ["down", "back", "down again"]
    finally:
        route.close()


def test_route_posts_to_server_speak_and_the_webhook() -> None:
    receiver = Receiver()
    try:
        config = AlertsConfig(speak_url=f"{receiver.url}/speak", webhook_url=f"{receiver.url}/hook")
        route = alerts.start_route(config, "monitor_redis")
        try:
            alerts.current().start("Redis", "Redis down: refused")
            alerts.current().end("Redis", "Redis back after 3 seconds", 3.0)
            bodies = receiver.wait(4)
        finally:
            route.close()
            alerts.install(None)
    finally:
        receiver.close()
    speak = [b for b in bodies if b["path"] == "/speak"]
    hook = [b for b in bodies if b["path"] == "/hook"]
    assert speak == [
        {"path": "/speak", "text": "monitor_redis: Redis down: refused", "priority": "high", "event": "outage_start"},
        {
            "path": "/speak",
            "text": "monitor_redis: Redis back after 3 seconds",
            "priority": "normal",
            "event": "outage_end",
        },
    ]
    assert [(b["phase"], b["subject"], b.get("duration_s")) for b in hook] == [
        ("start", "Redis", None),
        ("end", "Redis", 3.0),
    ]


def test_critical_records_become_events(recorder: Recorder) -> None:
    alerts.critical_notifier({"logger": "server_sql", "message": "disk full"})
    assert recorder.calls == [("event", "server_sql", "disk full", None)]


# The hooks


def test_link_hook_alerts_a_reconnect_outage_with_its_error_and_duration(recorder: Recorder) -> None:
    clock = [100.0]
    told: list[object] = []
    link: Reconnect = Reconnect(
        "redis publisher",
        monotonic=lambda: clock[0],
        backoff=Backoff(0.1, 1.0),
        on_outage=link_hook(lambda: link.last_error, lambda name, outage: told.append(outage)),
    )
    link.connected()  # a clean first connect: nothing
    link.failed(ConnectionRefusedError("refused"))
    link.failed(ConnectionRefusedError("refused"))  # the same outage: nothing more
    clock[0] = 112.5
    link.connected()
    assert recorder.calls == [
        ("start", "redis publisher", "redis publisher down: ConnectionRefusedError: refused", None),
        ("end", "redis publisher", "redis publisher back after 12 seconds", 12.5),
    ]
    assert told[0] is None and told[1] is link.last_outage


def test_upstream_alerts_failover_and_recovery(recorder: Recorder) -> None:
    hook = UpstreamAlerts("yahoo upstream")
    s = UpstreamState

    def move(at_s: float, source: UpstreamState, target: UpstreamState) -> None:
        hook(Transition(int(at_s * 1e6), source, target, "stream silent"))

    move(0, s.IDLE, s.RECONNECTING)  # a start's first connect: no outage
    move(0.2, s.RECONNECTING, s.STREAMING)  # a clean start says nothing
    move(10, s.STREAMING, s.RECONNECTING)
    move(15, s.RECONNECTING, s.POLLING)  # still the same outage
    move(40, s.POLLING, s.STREAMING)
    move(50, s.STREAMING, s.IDLE)
    assert recorder.calls == [
        ("start", "yahoo upstream", "yahoo upstream reconnecting: stream silent", None),
        ("end", "yahoo upstream", "yahoo upstream streaming again after 30 seconds", 30.0),
    ]


def test_upstream_alerts_a_start_that_cannot_connect_is_an_outage_from_the_failover(recorder: Recorder) -> None:
    hook = UpstreamAlerts("yahoo upstream")
    s = UpstreamState
    hook(Transition(0, s.IDLE, s.RECONNECTING, "starting"))
    hook(Transition(10_000_000, s.RECONNECTING, s.POLLING, "no stream after 10 s"))
    hook(Transition(70_000_000, s.POLLING, s.STREAMING, "streaming"))
    assert recorder.calls == [
        ("start", "yahoo upstream", "yahoo upstream polling: no stream after 10 s", None),
        ("end", "yahoo upstream", "yahoo upstream streaming again after 1 minute", 60.0),
    ]


# The config


def test_read_alerts_from_the_file_the_environment_and_flags() -> None:
    text = '{alerts: {speak_url: "http://127.0.0.1:8774/speak", min_interval_s: 5}}'
    env = {"RSDEV__ALERTS__WEBHOOK_URL": "https://hooks.example/x"}
    config = parse_config(text, read_alerts, env=env)
    assert config == AlertsConfig("http://127.0.0.1:8774/speak", "https://hooks.example/x", 5.0)
    assert config.enabled and not parse_config("{}", read_alerts).enabled
    flagged = parse_config("{}", read_alerts, flags={"alerts.speak_url": "http://h:1/speak"})
    assert flagged.speak_url == "http://h:1/speak"


def test_read_alerts_reports_every_problem() -> None:
    with pytest.raises(ConfigErrors) as caught:
        parse_config('{alerts: {speak_url: "ftp://x", min_interval_s: -1, nope: 1}}', read_alerts)
    text = str(caught.value)
    assert "alerts.speak_url" in text and "alerts.min_interval_s" in text and "nope" in text

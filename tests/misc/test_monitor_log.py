"""A monitor's check results in its log and its alerts, fed by hand (the results' own times)."""

from __future__ import annotations

import logging

import pytest

from rsdev_misc.monitor import CheckResult, HealthAlerts, ResultLog


def results(*spec: tuple[float, bool]) -> list[CheckResult]:
    return [CheckResult(ok, error=None if ok else "refused", at=at) for at, ok in spec]


def test_failed_checks_are_summarised_not_logged_each(caplog: pytest.LogCaptureFixture) -> None:
    result_log = ResultLog("monitor_redis", summary_every_s=60)
    checks = results((0, True), (10, False), *((10 + n, False) for n in range(1, 100)), (130, False), (131, True))
    with caplog.at_level(logging.DEBUG, logger="rsdev_misc.monitor"):
        for result in checks:
            result_log(result)
    loud = [(r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.INFO]
    assert loud == [
        ("INFO", "monitor_redis is healthy"),
        ("ERROR", "monitor_redis is unhealthy: refused"),
        ("WARNING", "monitor_redis still unhealthy after 60 s (60 failed checks): refused"),  # the check at 70 s
        ("WARNING", "monitor_redis still unhealthy after 120 s (40 failed checks): refused"),
        ("WARNING", "monitor_redis is healthy again after 121.0 s unhealthy"),
    ]


class Told:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float | None]] = []

    def start(self, subject: str, text: str, **fields: object) -> None:
        self.calls.append(("start", text, None))

    def end(self, subject: str, text: str, duration_s: float, **fields: object) -> None:
        self.calls.append(("end", text, duration_s))

    def event(self, subject: str, text: str, **fields: object) -> None:
        self.calls.append(("event", text, None))


def test_health_alerts_one_start_and_one_end_per_outage() -> None:
    told = Told()
    alerts = HealthAlerts("PostgreSQL", route=lambda: told)
    for result in results((0, True), (5, False), (6, False), (7, False), (65.5, True), (70, True)):
        alerts.observe(result)
    assert told.calls == [
        ("start", "PostgreSQL down: refused", None),
        ("end", "PostgreSQL back after 1 minute", 60.5),
    ]

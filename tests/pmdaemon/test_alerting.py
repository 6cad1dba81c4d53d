"""The watch's alert route: lib_common.alerts' AlertRoute when the extra is installed, only log
lines (and why, once) when it is not."""

from __future__ import annotations

import logging
import sys

import pytest

from pmdaemon.alerting import MISSING_EXTRA, Alerter, open_route
from pmdaemon.incidents import IncidentKind, Notice
from pmdaemon.services import WATCH_NAME, AlertsSpec

SPEC = AlertsSpec(webhook_url="http://127.0.0.1:9/hook", speak_url="http://127.0.0.1:9/speak", min_interval_s=5)


def test_route_is_lib_commons_with_the_watch_as_its_service() -> None:
    from lib_common.alerts import AlertRoute, AlertsConfig

    route = open_route(SPEC)
    try:
        assert isinstance(route, AlertRoute)
        assert route.service == WATCH_NAME
        assert route.config == AlertsConfig(
            speak_url=SPEC.speak_url, webhook_url=SPEC.webhook_url, min_interval_s=5.0, timeout_s=3.0
        )
    finally:
        assert route is not None
        route.close()
    assert open_route(None) is None


def test_without_lib_common_alerts_are_logged_and_the_reason_said(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "lib_common.alerts", None)  # import fails as if not installed
    caplog.set_level(logging.INFO, logger="pmdaemon.watch")
    alerter = Alerter(SPEC)
    assert alerter.route is None
    alerter.send([Notice("svc", IncidentKind.FATAL, "start", "svc: FATAL: ...")])
    messages = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert messages == [("ERROR", MISSING_EXTRA), ("WARNING", "alert (svc fatal start): svc: FATAL: ...")]


def test_configure_opens_a_new_route_only_when_the_section_changed() -> None:
    alerter = Alerter(None)
    assert alerter.route is None
    alerter.configure(SPEC)
    first = alerter.route
    assert first is not None
    alerter.configure(SPEC)
    assert alerter.route is first
    alerter.configure(None)
    assert alerter.route is None

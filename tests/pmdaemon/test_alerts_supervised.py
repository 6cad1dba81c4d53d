"""The watch's alerts end to end: a real supervisord, real failing processes and a tiny HTTP
sink as `watch.alerts.webhook_url`, receiving one start and one end per incident."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pmdaemon.conftest import Daemon, wait_for
from tests.webhook import Receiver

PY = sys.executable


class Sink(Receiver):
    def subject(self, subject: str) -> list[dict[str, Any]]:
        return [b for b in self.bodies if b.get("subject") == subject]

    def phases_of(self, subject: str) -> list[str]:
        return [phase for phase, s in self.phases() if s == subject]


@pytest.fixture
def sink() -> Iterator[Sink]:
    with Sink() as instance:
        yield instance


def crashing_while(flag: Path, up_s: float) -> list[str]:
    """A command that runs `up_s`, then exits 1 while `flag` exists (else stays up)."""
    flag.touch()
    code = f"import os, sys, time; time.sleep({up_s}); os.path.exists(sys.argv[1]) and sys.exit(1); time.sleep(3600)"
    return [PY, "-c", code, str(flag)]


def test_fatal_service_alerts_once_at_start_and_once_when_back(daemon: Daemon, sink: Sink) -> None:
    flag = daemon.root / "crash"
    crasher = crashing_while(flag, 0)
    service = {"name": "crasher", "command": crasher, "start_retries": 1, "start_secs": 1}
    service["backoff"] = {"initial_s": 2, "factor": 1, "max_s": 60}
    watch = {"alerts": {"webhook_url": f"{sink.url}/hook", "min_interval_s": 0}}
    daemon.start([service], rc=3, watch=watch)
    wait_for(lambda: sink.phases_of("crasher fatal") == ["start"], 20, "the FATAL alert")
    # The watch's recoveries fail while the flag is there: FATAL again, no second start.
    wait_for(lambda: daemon.record("crasher").get("recoveries", 0) >= 2, 30, "two failed recoveries")
    assert sink.phases_of("crasher fatal") == ["start"]
    flag.unlink()
    daemon.running("crasher", timeout=30)
    wait_for(lambda: sink.phases_of("crasher fatal") == ["start", "end"], 20, "the end alert")
    start, end = sink.subject("crasher fatal")
    assert start["service"] == "pmdaemon-watch" and "FATAL" in start["text"]
    assert start["fields"] == {"service": "crasher", "incident": "fatal"}
    assert end["duration_s"] >= 4 and "running and healthy again after" in end["text"]


def test_restart_loop_alerts_once_at_start_and_once_when_stable(daemon: Daemon, sink: Sink) -> None:
    flag = daemon.root / "crash"
    looper = crashing_while(flag, 1.5)  # up past start_secs, then a crash: restarted, again and again
    service = {"name": "looper", "command": looper, "start_secs": 1}
    watch = {
        "alerts": {"webhook_url": f"{sink.url}/hook", "min_interval_s": 0},
        "restart_loop": {"restarts": 3, "within_s": 60, "stable_s": 3},
    }
    daemon.start([service], watch=watch)
    wait_for(lambda: sink.phases_of("looper restart loop") == ["start"], 30, "the restart-loop alert")
    flag.unlink()
    wait_for(lambda: sink.phases_of("looper restart loop") == ["start", "end"], 30, "the end alert")
    start, end = sink.subject("looper restart loop")
    assert "3 unplanned restarts within 1m00s" in start["text"]
    assert end["duration_s"] >= 3 and end["text"].endswith("(restart loop over)")
    assert daemon.service("looper")["state"] == "RUNNING"
    assert sink.phases_of("looper fatal") == []

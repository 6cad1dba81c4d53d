"""The watch's alerts end to end: a real supervisord, real failing processes and a tiny HTTP
sink as `watch.alerts.webhook_url`, receiving one start and one end per incident."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.pmdaemon.conftest import Daemon, wait_for

PY = sys.executable


class Sink:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                sink.bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def phases(self, subject: str) -> list[str]:
        return [b["phase"] for b in self.bodies if b["subject"] == subject]


@pytest.fixture
def sink() -> Iterator[Sink]:
    instance = Sink()
    yield instance
    instance.server.shutdown()
    instance.server.server_close()


def test_fatal_service_alerts_once_at_start_and_once_when_back(daemon: Daemon, sink: Sink) -> None:
    flag = daemon.root / "crash"
    flag.touch()
    crasher = [
        PY,
        "-c",
        "import os, sys, time; os.path.exists(sys.argv[1]) and sys.exit(1); time.sleep(3600)",
        str(flag),
    ]
    service = {"name": "crasher", "command": crasher, "start_retries": 1, "start_secs": 1}
    service["backoff"] = {"initial_s": 2, "factor": 1, "max_s": 60}
    watch = {"alerts": {"webhook_url": sink.url, "min_interval_s": 0}}
    daemon.start([service], rc=3, watch=watch)
    wait_for(lambda: sink.phases("crasher fatal") == ["start"], 20, "the FATAL alert")
    # The watch's recoveries fail while the flag is there: FATAL again, no second start.
    wait_for(lambda: daemon.record("crasher").get("recoveries", 0) >= 2, 30, "two failed recoveries")
    assert sink.phases("crasher fatal") == ["start"]
    flag.unlink()
    daemon.running("crasher", timeout=30)
    wait_for(lambda: sink.phases("crasher fatal") == ["start", "end"], 20, "the end alert")
    start, end = (b for b in sink.bodies if b["subject"] == "crasher fatal")
    assert start["service"] == "pmdaemon-watch" and "FATAL" in start["text"]
    assert start["fields"] == {"service": "crasher", "incident": "fatal"}
    assert end["duration_s"] >= 4 and "running and healthy again after" in end["text"]


def test_restart_loop_alerts_once_at_start_and_once_when_stable(daemon: Daemon, sink: Sink) -> None:
    flag = daemon.root / "crash"
    flag.touch()
    # Up past start_secs, then a crash: supervisord restarts it, again and again.
    looper = [
        PY,
        "-c",
        "import os, sys, time; time.sleep(1.5); os.path.exists(sys.argv[1]) and sys.exit(1); time.sleep(3600)",
        str(flag),
    ]
    service = {"name": "looper", "command": looper, "start_secs": 1}
    watch = {
        "alerts": {"webhook_url": sink.url, "min_interval_s": 0},
        "restart_loop": {"restarts": 3, "within_s": 60, "stable_s": 3},
    }
    daemon.start([service], watch=watch)
    wait_for(lambda: sink.phases("looper restart loop") == ["start"], 30, "the restart-loop alert")
    flag.unlink()
    wait_for(lambda: sink.phases("looper restart loop") == ["start", "end"], 30, "the end alert")
    start, end = (b for b in sink.bodies if b["subject"] == "looper restart loop")
    assert "3 unplanned restarts within 1m00s" in start["text"]
    assert end["duration_s"] >= 3 and end["text"].endswith("(restart loop over)")
    assert daemon.service("looper")["state"] == "RUNNING"
    assert sink.phases("looper fatal") == []

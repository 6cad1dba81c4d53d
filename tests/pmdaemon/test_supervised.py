"""pmdaemon end to end: real supervisord, real services (small Python programs), real /proc."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.pmdaemon.conftest import Daemon, free_port, wait_for

PY = sys.executable
SLEEPER = [PY, "-c", "import time; time.sleep(3600)"]

# An HTTP service whose /health answers 500 while the flag file exists.
HTTP_SERVER = """
import http.server, os, sys
port, flag = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(500 if os.path.exists(flag) else 200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

# A parent that stays small and a child that allocates (and touches) 150 MB once the flag appears.
MEMORY_HOG = """
import os, subprocess, sys, time
flag = sys.argv[1]
if sys.argv[2:] == ["child"]:
    hoard = []
    while True:
        if os.path.exists(flag):
            os.remove(flag)
            hoard.append(b"x" * (150 << 20))
        time.sleep(0.1)
subprocess.Popen([sys.executable, __file__, flag, "child"])
time.sleep(3600)
"""


def test_sigkilled_service_is_back_within_its_restart_delay(daemon: Daemon) -> None:
    daemon.start([{"name": "sleeper", "command": SLEEPER, "start_secs": 1}])
    before = daemon.running("sleeper")
    os.kill(before["pid"], signal.SIGKILL)
    killed = time.monotonic()
    # supervisord restarts an unexpected exit at once; RUNNING after start_secs (1 s), with slack.
    after = daemon.running("sleeper", other_than=before["pid"], timeout=8)
    assert time.monotonic() - killed < 8
    wait_for(lambda: daemon.service("sleeper")["restarts"] == 1, 5, "the restart to be counted")
    assert after["state"] == "RUNNING"


def test_service_over_its_memory_limit_is_restarted(daemon: Daemon) -> None:
    hog = daemon.script("hog.py", MEMORY_HOG)
    flag = daemon.root / "allocate"
    daemon.start([{"name": "hog", "command": [PY, str(hog), str(flag)], "memory_limit_mb": 100}])
    before = daemon.running("hog")
    wait_for(lambda: len(_children(before["pid"])) == 1, 10, "the hog's child")
    assert daemon.service("hog")["rss_bytes"] < 100 << 20
    flag.touch()
    after = daemon.running("hog", other_than=before["pid"], timeout=20)
    record = daemon.record("hog")
    assert record["actions"] == {"memory": 1}
    assert record["last_action"]["reason"] == "memory" and "> limit 100 MB" in record["last_action"]["detail"]
    assert not flag.exists()
    # The old tree is gone, child included (stopasgroup), and the new one is small again.
    assert not Path(f"/proc/{before['pid']}").exists()
    assert daemon.service("hog")["rss_bytes"] < 100 << 20
    assert after["pid"] != before["pid"]


def test_service_failing_health_checks_is_restarted(daemon: Daemon) -> None:
    server = daemon.script("server.py", HTTP_SERVER)
    port, flag = free_port(), daemon.root / "unhealthy"
    health = {"url": f"http://127.0.0.1:{port}/health", "interval_s": 0.5, "timeout_s": 2, "failures": 3}
    daemon.start([{"name": "web", "command": [PY, str(server), str(port), str(flag)], "health": health}])
    before = daemon.running("web")
    wait_for(lambda: daemon.service("web")["health"] == "ok", 10, "a passing health check")
    flag.touch()
    wait_for(lambda: daemon.service("web")["health_failures"] >= 1, 10, "a failed health check")
    assert daemon.service("web")["pid"] == before["pid"]  # not on the first failure
    after = daemon.running("web", other_than=before["pid"], timeout=20)
    flag.unlink()
    record = daemon.record("web")
    assert record["actions"] == {"health": 1}
    assert record["last_action"]["detail"] == "3 consecutive failed health checks: HTTP 500"
    wait_for(lambda: daemon.service("web")["health"] == "ok", 10, "the new instance to pass")
    assert daemon.service("web")["pid"] == after["pid"]


def test_scheduled_restart_fires_at_new_york_time(daemon: Daemon) -> None:
    at = dt.datetime.now(ZoneInfo("America/New_York")) + dt.timedelta(seconds=8)
    daemon.start([{"name": "sleeper", "command": SLEEPER, "restart_at": [at.strftime("%H:%M:%S")]}])
    before = daemon.running("sleeper")
    assert dt.datetime.now(ZoneInfo("America/New_York")) < at, "the service took too long to start"
    daemon.running("sleeper", other_than=before["pid"], timeout=30)
    assert dt.datetime.now(ZoneInfo("America/New_York")) >= at.replace(microsecond=0)
    record = daemon.record("sleeper")
    assert record["actions"] == {"schedule": 1}
    assert record["last_action"]["detail"] == f"scheduled at {at:%H:%M:%S} New York"


def test_crash_looping_service_goes_fatal_and_is_recovered_after_cool_down(daemon: Daemon) -> None:
    flag = daemon.root / "crash"
    flag.touch()
    crasher = [
        PY,
        "-c",
        "import os, sys, time; os.path.exists(sys.argv[1]) and sys.exit(3); time.sleep(3600)",
        str(flag),
    ]
    backoff = {"initial_s": 3, "factor": 2, "max_s": 60}
    daemon.start([{"name": "crasher", "command": crasher, "start_retries": 1, "start_secs": 1, "backoff": backoff}])
    wait_for(lambda: daemon.service("crasher")["state"] == "FATAL", 20, "supervisord to give up (FATAL)")
    fatal_at = time.monotonic()
    flag.unlink()
    daemon.running("crasher", timeout=20)
    # Not before the 3 s cool-down (measured from when the watch saw FATAL, at most a poll earlier).
    assert time.monotonic() - fatal_at >= 2.0
    record = daemon.record("crasher")
    assert record["actions"] == {"fatal": 1}
    assert record["last_action"]["detail"] == "recovery 1 after 3s cool-down"


def test_status_matches_proc(daemon: Daemon) -> None:
    daemon.start(
        [
            {"name": "one", "command": [*SLEEPER, "one"]},
            {"name": "two", "command": [*SLEEPER, "two"], "env": {"PMD_MARK": "two"}},
        ]
    )
    daemon.running("one")
    daemon.running("two")
    report = daemon.status()
    assert report["supervisord_pid"] == int(daemon.state.pidfile.read_text())
    assert report["watch"]["state"] == "RUNNING"
    for s in report["services"]:
        cmdline = Path(f"/proc/{s['pid']}/cmdline").read_bytes().split(b"\0")
        assert cmdline[-2].decode() == s["name"]
        assert _ppid(s["pid"]) == report["supervisord_pid"]
        assert s["rss_bytes"] > 1 << 20 and s["uptime_s"] >= 0 and s["restarts"] == 0
    environ = Path(f"/proc/{daemon.service('two')['pid']}/environ").read_bytes().split(b"\0")
    assert b"PMD_MARK=two" in environ

    assert daemon.cli("stop", "one").returncode == 0
    table = daemon.cli("status")
    assert table.returncode == 0
    lines = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:3]}
    assert lines["one"][1:3] == ["STOPPED", "-"]
    assert lines["two"][1:3] == ["RUNNING", str(daemon.service("two")["pid"])]

    assert daemon.cli("restart", "one").returncode == 0
    daemon.running("one")


def test_start_again_reloads_and_logs_shows_output(daemon: Daemon) -> None:
    talker = [PY, "-u", "-c", "import time; [print('line', i) for i in range(5)]; time.sleep(3600)"]
    daemon.start([{"name": "talker", "command": talker}])
    daemon.running("talker")
    supervisord = daemon.status()["supervisord_pid"]
    daemon.write_services([{"name": "talker", "command": talker}, {"name": "extra", "command": SLEEPER}])
    result = daemon.cli("start", str(daemon.services_file))
    assert result.returncode == 0 and "added: ['extra']" in result.stdout
    daemon.running("extra")
    assert daemon.status()["supervisord_pid"] == supervisord
    wait_for(lambda: daemon.cli("logs", "talker", "-n", "2").stdout == "line 3\nline 4\n", 10, "the log lines")


def test_bad_services_file_is_refused_before_anything_starts(daemon: Daemon) -> None:
    daemon.services_file.write_text(
        '{\n  services: [\n    { name: "x", command: "true", memory_limit_mb: -5 },\n  ],\n}\n'
    )
    result = daemon.cli("start", str(daemon.services_file))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"pmdaemon: {daemon.services_file}:3:52: services[0].memory_limit_mb: expected a number > 0, found -5"
    )
    assert not daemon.state.socket.exists()


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])

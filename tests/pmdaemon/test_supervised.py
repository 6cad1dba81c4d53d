"""pmdaemon end to end: real supervisord, real services (small Python programs), real /proc."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

from pmdaemon.procfs import ProcFS
from tests.pmdaemon.conftest import PMDAEMON, SLEEPER_ARGS, Daemon, free_port, wait_for

PY = sys.executable
SLEEPER = SLEEPER_ARGS

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
        "import os, sys, time; os.path.exists(sys.argv[1]) and sys.exit('crashing: ' + sys.argv[1]); time.sleep(3600)",
        str(flag),
    ]
    backoff = {"initial_s": 3, "factor": 2, "max_s": 60}
    service = {"name": "crasher", "command": crasher, "start_retries": 1, "start_secs": 1, "backoff": backoff}
    # `start` waits for supervisord to give up, and says why, from the service's log.
    result = daemon.start([service], rc=3)
    assert "1 of 1 services did not start" in result.stderr
    assert "crasher: FATAL" in result.stderr and f"  | crashing: {flag}" in result.stderr
    assert daemon.service("crasher")["state"] == "FATAL"
    assert daemon.cli("status").returncode == 3
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
    assert daemon.cli("status").returncode == 0  # all RUNNING, no health checks to pass
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
    assert table.returncode == 3  # a service is not RUNNING
    lines = {line.split()[0]: line.split() for line in table.stdout.splitlines()[1:3]}
    assert lines["one"][1:3] == ["STOPPED", "-"]
    assert lines["two"][1:3] == ["RUNNING", str(daemon.service("two")["pid"])]

    assert daemon.cli("restart", "one").returncode == 0
    daemon.running("one")
    wait_for(lambda: "restart (command)" in daemon.cli("status").stdout, 10, "the restart as the last action")


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


# A server on a port whose /health body says what the flag file holds ("ok" when absent).
STATUS_SERVER = """
import http.server, json, os, sys
port, flag = int(sys.argv[1]), sys.argv[2]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        status = open(flag).read().strip() if os.path.exists(flag) else "ok"
        self.send_response(503 if status == "down" else 200)
        self.end_headers()
        self.wfile.write(json.dumps({"status": status, "last_error": "redis away"}).encode())
    def log_message(self, *args):
        pass
print("serving on", port, flush=True)
print("to stderr", file=sys.stderr, flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""

# What `uv run` does: a parent that runs the real server as a child and waits for it.
WRAPPER = """
import subprocess, sys
sys.exit(subprocess.call([sys.executable, *sys.argv[1:]]))
"""


def _serves(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


def _with_marker(daemon: Daemon, name: str) -> list[int]:
    mark = f"PMDAEMON_SERVICE={daemon.state.root}/{name}".encode()
    return [pid for pid in ProcFS().pids() if mark in _environ(pid) and _state(pid) not in "ZX"]


def test_killing_the_pid_status_shows_brings_the_service_back_as_one_process(daemon: Daemon) -> None:
    server = daemon.script("server.py", STATUS_SERVER)
    port = free_port()
    service = {"name": "web", "port": port, "command": [PY, str(server), "${port}", str(daemon.root / "f")]}
    daemon.start([{**service, "health": {"interval_s": 0.5}}])
    before = daemon.running("web")
    supervisord = daemon.status()["supervisord_pid"]
    # The pid is the server's own (the launcher exec'd it): no wrapper, no child.
    assert Path(f"/proc/{before['pid']}/cmdline").read_bytes().split(b"\0")[1] == str(server).encode()
    assert _ppid(before["pid"]) == supervisord and _children(before["pid"]) == []
    os.kill(before["pid"], signal.SIGKILL)
    killed = time.monotonic()
    after = daemon.running("web", other_than=before["pid"], timeout=10)
    wait_for(lambda: _serves(port), 5, "the new instance to serve")
    assert time.monotonic() - killed < 8
    assert _ppid(after["pid"]) == supervisord and _children(after["pid"]) == []
    assert _with_marker(daemon, "web") == [after["pid"]]
    assert ProcFS().listeners(port) == [after["pid"]]
    wait_for(lambda: daemon.service("web")["restarts"] == 1, 5, "one restart counted")
    last = daemon.service("web")["last_action"]
    assert (last["action"], last["reason"]) == ("restart", "exit") and f"pid {before['pid']}" in last["detail"]


def test_what_a_killed_wrapper_leaves_holding_the_port_is_ended_before_the_restart(daemon: Daemon) -> None:
    wrapper, server = daemon.script("wrapper.py", WRAPPER), daemon.script("server.py", STATUS_SERVER)
    port = free_port()
    command = [PY, str(wrapper), str(server), "${port}", str(daemon.root / "f")]
    daemon.start([{"name": "wrapped", "port": port, "command": command, "start_secs": 1}])
    before = daemon.running("wrapped")
    wait_for(lambda: _serves(port), 10, "the wrapped server")
    (child,) = _children(before["pid"])
    os.kill(before["pid"], signal.SIGKILL)  # the child is orphaned, still holding the port
    after = daemon.running("wrapped", other_than=before["pid"], timeout=15)
    wait_for(lambda: _serves(port), 10, "the new instance to serve")
    assert not Path(f"/proc/{child}").exists() or _state(child) in "ZX"
    (new_child,) = _children(after["pid"])
    assert sorted(_with_marker(daemon, "wrapped")) == sorted([after["pid"], new_child])
    assert ProcFS().listeners(port) == [new_child]
    assert daemon.service("wrapped")["restarts"] == 1 and daemon.record("wrapped")["spawn_failures"] == 0
    assert f"ending pid {child} left by a previous instance" in daemon.cli("logs", "wrapped").stdout


def test_a_port_held_by_a_stranger_or_a_missing_command_fails_start_with_the_reason(daemon: Daemon) -> None:
    port = free_port()
    stranger = subprocess.Popen(
        [
            PY,
            "-c",
            f"import socket, time; s = socket.socket(); s.bind(('127.0.0.1', {port})); s.listen(); time.sleep(60)",
        ]
    )
    try:
        wait_for(lambda: ProcFS().listeners(port), 10, "the stranger to listen")
        services = [
            {"name": "blocked", "port": port, "command": SLEEPER, "start_retries": 0},
            {"name": "missing", "command": "no-such-command-here --flag", "start_retries": 0},
        ]
        result = daemon.start(services, rc=3)
        assert "2 of 2 services did not start" in result.stderr
        assert f"port {port} is held by a process it did not start (pid {stranger.pid}: " in result.stderr
        assert "cannot run missing: 'no-such-command-here': No such file or directory on PATH=" in result.stderr
        assert stranger.poll() is None  # left alone
    finally:
        stranger.kill()
        stranger.wait()


def test_status_tells_degraded_and_failing_apart_and_exits_non_zero(daemon: Daemon) -> None:
    server = daemon.script("server.py", STATUS_SERVER)
    port, flag = free_port(), daemon.root / "status"
    health = {"interval_s": 0.5, "failures": 2, "restart": False}  # a monitor: report, never restart
    daemon.start([{"name": "mon", "port": port, "command": [PY, str(server), "${port}", str(flag)], "health": health}])
    pid = daemon.running("mon")["pid"]
    wait_for(lambda: daemon.service("mon")["health"] == "ok", 10, "a passing check")
    assert daemon.cli("status").returncode == 0
    flag.write_text("degraded")
    wait_for(lambda: daemon.service("mon")["health"] == "degraded: HTTP 200 degraded: redis away", 10, "degraded")
    assert daemon.cli("status").returncode == 4
    flag.write_text("down")
    wait_for(lambda: daemon.service("mon")["health_failures"] >= 3, 10, "failures past the threshold")
    table = daemon.cli("status")
    assert table.returncode == 4 and "failing: HTTP 503" in table.stdout
    assert daemon.service("mon")["pid"] == pid  # health.restart false: never restarted


def test_logs_merge_stdout_and_stderr_and_follow(daemon: Daemon) -> None:
    server = daemon.script("server.py", STATUS_SERVER)
    port = free_port()
    daemon.start([{"name": "web", "port": port, "command": [PY, str(server), "${port}", str(daemon.root / "f")]}])
    daemon.running("web")
    wait_for(lambda: daemon.cli("logs", "web", "-n", "2").stdout == f"serving on {port}\nto stderr\n", 10, "both lines")
    follower = subprocess.Popen(
        [str(PMDAEMON), "--state-dir", str(daemon.state.root), "logs", "web", "-n", "0", "-f"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1)
        with (daemon.state.logs / "web.log").open("a") as log:
            log.write("appended later\n")
        assert follower.stdout is not None
        assert follower.stdout.readline() == "appended later\n"
    finally:
        follower.terminate()
        follower.communicate()


def _environ(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return b""


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"

"""Real services for the monitors' tests: a private PgBouncer (transaction pooling) in front of
the local PostgreSQL, private redis-servers that tests may kill, and monitor processes."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import free_port

POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
PGBOUNCER = "/usr/sbin/pgbouncer"


def wait_port(
    port: int, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None, log: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            output = log.read_text(errors="replace") if log is not None else ""
            raise RuntimeError(f"exited with {proc.returncode} before listening on {port}:\n{output}")
        with socket.socket() as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_monitor(
    module: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60.0
) -> subprocess.CompletedProcess[str]:
    """The monitor `module` run to its end; `env` on top of this process's environment."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_PROXY": "*", **(env or {})},
    )


class MonitorProcess:
    """A monitor in loop mode with its /health port and a JSON-line log directory."""

    def __init__(self, module: str, args: list[str], tmp_path: Path) -> None:
        self.port = free_port()
        self.log_dir = tmp_path / f"logs-{self.port}"
        self.out = tmp_path / f"{module.rpartition('.')[2]}-{self.port}.out"
        with self.out.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", module, "--port", str(self.port), "--log-dir", str(self.log_dir), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "NO_PROXY": "*", "PYTHONUNBUFFERED": "1"},
            )
        wait_port(self.port)

    def health(self) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=5)

    def wait_status(self, code: int, timeout: float = 30.0) -> httpx.Response:
        deadline = time.monotonic() + timeout
        response = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"monitor exited with {self.proc.returncode}:\n{self.output()}")
            response = self.health()
            if response.status_code == code:
                return response
            time.sleep(0.1)
        raise AssertionError(f"/health not {code} within {timeout}s (last: {response}):\n{self.output()}")

    def wait_health(self, until: Callable[[dict[str, Any]], bool], timeout: float = 30.0) -> httpx.Response:
        """The first /health response whose JSON body satisfies `until`."""
        deadline = time.monotonic() + timeout
        body: dict[str, Any] = {}
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"monitor exited with {self.proc.returncode}:\n{self.output()}")
            response = self.health()
            body = response.json()
            if until(body):
                return response
            time.sleep(0.1)
        raise AssertionError(
            f"/health never satisfied the condition within {timeout}s (last: {body}):\n{self.output()}"
        )

    def events(self) -> list[dict[str, object]]:
        import json

        return [json.loads(line) for p in sorted(self.log_dir.glob("*.jsonl")) for line in p.read_text().splitlines()]

    def wait_event(self, event: str, timeout: float = 30.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for record in self.events():
                if record["event"] == event:
                    return record
            time.sleep(0.1)
        raise AssertionError(f"no {event} event within {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.out.read_text(errors="replace")

    def stop(self) -> int:
        stop(self.proc)
        return self.proc.returncode


StartMonitor = Callable[..., MonitorProcess]


@pytest.fixture
def start_monitor(tmp_path: Path) -> Iterator[StartMonitor]:
    running: list[MonitorProcess] = []

    def start(module: str, *args: str) -> MonitorProcess:
        proc = MonitorProcess(module, list(args), tmp_path)
        running.append(proc)
        return proc

    yield start
    for proc in running:
        proc.stop()


@pytest.fixture
def pgbouncer(tmp_path: Path) -> Iterator[str]:
    """A private PgBouncer in transaction pooling mode; yields its DSN. PgBouncer refuses to run
    as root, so as root it runs as `nobody`, with its files in a directory nobody can read."""
    port = free_port()
    home = Path(tempfile.mkdtemp(prefix="rsdev-pgbouncer-"))
    home.chmod(0o755)
    userlist = home / "userlist.txt"
    userlist.write_text('"postgres" ""\n')
    ini = home / "pgbouncer.ini"
    ini.write_text(
        "[databases]\n"
        "test = host=127.0.0.1 port=5432 dbname=test user=postgres\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = trust\nauth_file = {userlist}\n"
        "pool_mode = transaction\nmax_client_conn = 20\ndefault_pool_size = 2\n"
    )
    for path in (userlist, ini):
        path.chmod(0o644)
    as_user = ["-u", "nobody"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    log = tmp_path / "pgbouncer.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([PGBOUNCER, *as_user, str(ini)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc=proc, log=log)
        yield f"postgresql://postgres@127.0.0.1:{port}/test"
    finally:
        stop(proc)
        shutil.rmtree(home, ignore_errors=True)


class PrivateRedis:
    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_port(self.port, proc=self.proc)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


from tests.redis_cluster import own_redis_cluster, redis_cluster  # noqa: E402, F401  (fixtures)

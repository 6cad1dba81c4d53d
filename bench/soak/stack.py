"""The soak's stack: private Redis and PostgreSQL it may stop, and the deploy's services file
rewritten onto free ports, the private servers and the soak's webhook, run by a real pmdaemon."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import json5
import psycopg
import redis

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy" / "services.json5"
# The deploy's monitors name the machine's Redis and PostgreSQL by address in their commands.
MACHINE_REDIS, MACHINE_POSTGRES = "127.0.0.1:6379", "127.0.0.1:5432"


class SoakError(Exception):
    """The stack could not be brought up or driven."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # a server still starting answers with errors
            last = exc
        time.sleep(0.2)
    raise SoakError(f"not within {timeout_s:g}s: {what}" + (f" (last error: {last})" if last else ""))


class _Private:
    """A server process of our own in a temp dir, stopped and started again on the same port."""

    name = "server"

    def __init__(self) -> None:
        # In the system's temp dir, not the run's: that may be in a directory only we may enter.
        self.dir = Path(tempfile.mkdtemp(prefix=f"soak-{self.name}-"))
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        # PostgreSQL refuses to run as root: then it runs as the 'postgres' user.
        self.user = "postgres" if os.geteuid() == 0 else None
        if self.user:
            shutil.chown(self.dir, self.user, self.user)

    def args(self) -> list[str]:
        raise NotImplementedError

    def answers(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        log = self.dir / f"{self.name}.log"
        with log.open("ab") as out:
            self.proc = subprocess.Popen(self.args(), user=self.user, cwd=self.dir, stdout=out, stderr=out)
        wait_until(self.answers, 60, f"{self.name} on port {self.port} ({log})")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis(_Private):
    """Append-only, fsynced on every write: what it acknowledged survives its restart."""

    name = "redis"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def args(self) -> list[str]:
        return [
            *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)),
            *("--save", "", "--appendonly", "yes", "--appendfsync", "always"),
        ]

    def answers(self) -> bool:
        with contextlib.closing(redis.Redis.from_url(self.url, socket_timeout=2)) as client:
            return bool(client.ping())


def _postgres_bindir() -> Path:
    for bindir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (bindir / "initdb").exists():
            return bindir
    raise SoakError("PostgreSQL server binaries (initdb, postgres) not found under /usr/lib/postgresql")


class PrivatePostgres(_Private):
    name = "postgres"

    def __init__(self) -> None:
        super().__init__()
        self.bin = _postgres_bindir()
        self.data = self.dir / "data"
        initdb = [str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N"]
        subprocess.run(initdb, user=self.user, cwd=self.dir, check=True, capture_output=True)

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def args(self) -> list[str]:
        return [
            *(str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir)),
            *("-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=40"),
        ]

    def answers(self) -> bool:
        with psycopg.connect(self.dsn, connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True

    def stop(self, sig: int = signal.SIGINT) -> None:  # fast shutdown: clients cut off, as in an outage
        super().stop(sig)


def derive_services(
    out: Path,
    *,
    bin_dir: Path,
    redis_server: PrivateRedis,
    postgres: PrivatePostgres,
    webhook_url: str,
    alert_min_interval_s: float,
    inactivity_s: float,
) -> tuple[Path, dict[str, int]]:
    """deploy/services.json5 with every port free, the private servers and the webhook in place.

    Every service (and pmdaemon's watch) alerts to the webhook; restream's inactivity timeout
    is shortened so that an upstream stall of the soak's outage length is a failover."""
    data: dict[str, Any] = json5.loads(DEPLOY.read_text())
    services: list[dict[str, Any]] = data["services"]
    ports = {s["name"]: free_port() for s in services}
    data["vars"].update(bin=str(bin_dir), redis=redis_server.url, dsn=postgres.dsn)
    watch = data.setdefault("watch", {})
    watch["alerts"] = {"webhook_url": webhook_url, "min_interval_s": alert_min_interval_s}
    for service in services:
        name = service["name"]
        service["port"] = ports[name]
        service["cwd"] = str(REPO)
        command = str(service["command"])
        command = command.replace(MACHINE_REDIS, f"127.0.0.1:{redis_server.port}")
        service["command"] = command.replace(MACHINE_POSTGRES, f"127.0.0.1:{postgres.port}")
        env = service.setdefault("env", {})
        env["RSDEV__ALERTS__WEBHOOK_URL"] = webhook_url
        env["RSDEV__ALERTS__MIN_INTERVAL_S"] = str(alert_min_interval_s)
        if name == "restream":
            env["RSDEV__FEED__INACTIVITY_TIMEOUT_S"] = str(inactivity_s)
    leftover = [s["name"] for s in services if MACHINE_REDIS in s["command"] or MACHINE_POSTGRES in s["command"]]
    if leftover:
        raise SoakError(f"still pointing at the machine's Redis/PostgreSQL: {leftover}")
    path = out / "services.json5"
    path.write_text("// derived from deploy/services.json5 by bench/soak\n" + json.dumps(data, indent=2))
    return path, ports


class Pmdaemon:
    """The `pmdaemon` command for one private state dir."""

    def __init__(self, bin_dir: Path, state_dir: Path) -> None:
        self.exe = bin_dir / "pmdaemon"
        self.state_dir = state_dir

    def run(self, *args: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.exe), "--state-dir", str(self.state_dir), *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, check=False)

    def checked(self, *args: str, timeout_s: float = 120) -> str:
        result = self.run(*args, timeout_s=timeout_s)
        if result.returncode != 0:
            raise SoakError(f"pmdaemon {' '.join(args)}: exit {result.returncode}: {result.stderr.strip()[-2000:]}")
        return result.stdout

    def status(self) -> dict[str, Any]:
        """`status --json` (its exit code says health, the report says it all)."""
        result = self.run("status", "--json", timeout_s=30)
        try:
            report: dict[str, Any] = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise SoakError(f"pmdaemon status: exit {result.returncode}: {result.stderr.strip()[-500:]}") from exc
        return report

    def services(self) -> dict[str, dict[str, Any]]:
        return {s["name"]: s for s in self.status()["services"]}

    @property
    def logs(self) -> Path:
        return self.state_dir / "logs"

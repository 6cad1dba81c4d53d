"""Private PostgreSQL, Redis and PgBouncer instances for tests that stop them, and helpers to
publish quotes the way restream does (XADD {prefix}quotes symbol=... frame=...)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
import redis

from tests.processes import free_port

SHARED_DSN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
SHARED_REDIS = "redis://127.0.0.1:6379/0"
TS0 = 1_763_769_600_000_000  # 2025-11-22 00:00 UTC


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(interval)
    raise AssertionError(f"not within {timeout}s: {what}")


def quote(i: int, ts_upstream: int = TS0) -> dict[str, object]:
    return {
        "type": "quote",
        "symbol": f"SYM{i % 37}",
        "price": 100.0 + i / 100,
        "day_volume": i,
        "ts_upstream": ts_upstream + i,
        "ts_library_in": ts_upstream + i + 1000,
        "ts_library_out": ts_upstream + i + 1100,
    }


def publish(redis_url: str, prefix: str, quotes: list[dict[str, object]]) -> list[str]:
    """XADD each quote as restream does; the entry ids, in order."""
    client = redis.Redis.from_url(redis_url)
    ids: list[str] = []
    try:
        for start in range(0, len(quotes), 1000):
            pipe = client.pipeline(transaction=False)
            for q in quotes[start : start + 1000]:
                frame = json.dumps(q, separators=(",", ":"))
                pipe.xadd(f"{prefix}quotes", {"symbol": str(q["symbol"]), "frame": frame})
            ids += [raw.decode() for raw in pipe.execute()]
    finally:
        client.close()
    return ids


def drop_keys(redis_url: str, prefix: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


def stream_ids_in(dsn: str, table: str) -> list[str]:
    with psycopg.connect(dsn, prepare_threshold=None, connect_timeout=3) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()
        if not exists or exists[0] is None:
            return []
        return [row[0] for row in conn.execute(f"SELECT stream_id FROM {table}")]


def drop_table(dsn: str, table: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def pending(redis_url: str, prefix: str, group: str) -> int:
    client = redis.Redis.from_url(redis_url)
    try:
        return int(client.xpending(f"{prefix}quotes", group)["pending"])
    finally:
        client.close()


# ── private instances ──────────────────────────────────────────────────────────────────────


def _postgres_bin() -> Path | None:
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        candidates.append(Path(out))
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((c for c in candidates if (c / "postgres").exists() and (c / "initdb").exists()), None)


class _Owned:
    """A temp directory and processes run as an unprivileged user when we are root (postgres and
    pgbouncer refuse to run as root)."""

    def __init__(self, prefix: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.user: str | None = None
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            self.user = "postgres"
            try:
                shutil.chown(self.root, self.user, self.user)
            except LookupError:
                pytest.fail(
                    "running as root and there is no 'postgres' user to run private services as (install PostgreSQL)"
                )

    def run(self, args: list[str]) -> None:
        subprocess.run(args, user=self.user, cwd=self.root, check=True, capture_output=True)

    def spawn(self, args: list[str], log: Path) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(args, user=self.user, cwd=self.root, stdout=out, stderr=subprocess.STDOUT)

    def log(self, name: str) -> Path:
        path = self.root / name
        path.touch()
        if self.user:
            shutil.chown(path, self.user, self.user)
        return path

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float = 20.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class PrivatePostgres:
    """initdb now; `start` runs postgres on a free port with `settings` as `-c key=value` (files
    they name, as ssl_cert_file, may be placed in `data` before: `place`)."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        self.settings = dict(settings or {})
        bindir = _postgres_bin()
        if bindir is None:
            pytest.fail("PostgreSQL server binaries (initdb, postgres) not found: the set-up must install them")
        self.bin = bindir
        self.dir = _Owned("rsdev-pg-")
        self.data = self.dir.root / "data"
        self.port = free_port()
        self.dsn = f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres connect_timeout=3"
        self.logfile = self.dir.log("postgres.log")
        self.proc: subprocess.Popen[bytes] | None = None
        self.dir.run([str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-N"])

    def start(self) -> None:
        args = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir.root)]
        args += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=20"]
        args += [arg for key, value in self.settings.items() for arg in ("-c", f"{key}={value}")]
        self.proc = self.dir.spawn(args, self.logfile)
        wait_for(self._accepts, 30, f"postgres on port {self.port}: {self.logfile.read_text()[-2000:]}")

    def place(self, name: str, data: bytes, mode: int = 0o600) -> Path:
        """A file in the data directory, owned by the server's user (a key must be, mode 0600)."""
        path = self.data / name
        path.write_bytes(data)
        path.chmod(mode)
        if self.dir.user:
            shutil.chown(path, self.dir.user, self.dir.user)
        return path

    def _accepts(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"postgres exited: {self.logfile.read_text()[-2000:]}")
        with psycopg.connect(self.dsn) as conn:
            conn.execute("SELECT 1")
        return True

    def stop(self) -> None:
        _stop(self.proc, signal.SIGINT)  # fast shutdown: clients are cut off, as in an outage

    def close(self) -> None:
        self.stop()
        self.dir.remove()


class PrivateRedis:
    def __init__(self, persistent: bool) -> None:
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server not found: the set-up must install it")
        self.root = Path(tempfile.mkdtemp(prefix="rsdev-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.persistent = persistent
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--dir", str(self.root)]
        args += ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        with (self.root / "redis.log").open("ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
        wait_for(self._pings, 15, f"redis on port {self.port}")

    def _pings(self) -> bool:
        client = redis.Redis.from_url(self.url)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def stop(self) -> None:
        _stop(self.proc, signal.SIGTERM)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class PrivatePgBouncer:
    """PgBouncer in transaction pooling mode in front of the shared PostgreSQL's `test` database."""

    def __init__(self) -> None:
        binary = shutil.which("pgbouncer") or ("/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None)
        if binary is None:
            pytest.fail("pgbouncer not found: scripts/test.sh installs it")
        self.dir = _Owned("rsdev-pgbouncer-")
        self.port = free_port()
        self.dsn = f"host=127.0.0.1 port={self.port} dbname=test user=postgres connect_timeout=3"
        users = self.dir.root / "users.txt"
        users.write_text('"postgres" ""\n')
        ini = self.dir.root / "pgbouncer.ini"
        ini.write_text(
            "[databases]\n"
            "test = host=127.0.0.1 port=5432 dbname=test user=postgres\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\n"
            "pool_mode = transaction\ndefault_pool_size = 2\nmax_client_conn = 50\n"
        )
        self.logfile = self.dir.log("pgbouncer.log")
        self.proc = self.dir.spawn([binary, str(ini)], self.logfile)
        wait_for(self._accepts, 15, f"pgbouncer on port {self.port}: {self.logfile.read_text()[-2000:]}")

    def _accepts(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"pgbouncer exited: {self.logfile.read_text()[-2000:]}")
        with psycopg.connect(self.dsn, prepare_threshold=None) as conn:
            conn.execute("SELECT 1")
        return True

    def pool_mode(self) -> str:
        ini = (self.dir.root / "pgbouncer.ini").read_text()
        return next(line.split("=")[1].strip() for line in ini.splitlines() if line.startswith("pool_mode"))

    def close(self) -> None:
        _stop(self.proc, signal.SIGINT)
        self.dir.remove()


@contextlib.contextmanager
def shared_names(tag: str) -> Iterator[tuple[str, str]]:
    """A unique Redis key prefix and table name on the shared servers, removed afterwards."""
    unique = f"{tag}_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    prefix, table = f"rsdev-test:{unique}:", f"t_{unique}"
    try:
        yield prefix, table
    finally:
        drop_keys(SHARED_REDIS, prefix)
        with contextlib.suppress(psycopg.Error):
            drop_table(SHARED_DSN, table)

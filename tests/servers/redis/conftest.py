"""Redis for the scale-out tests: a unique prefix on the shared Redis, or a private redis-server
that a test may kill and restart (never the shared one)."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.processes import free_port
from tests.servers.conftest import Launcher

SHARED_REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix() -> Iterator[str]:
    """A key and channel prefix of this test's own; its stream is deleted afterwards."""
    prefix = f"rsdev-test-{uuid.uuid4().hex[:10]}:"
    yield prefix
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        client.delete(f"{prefix}quotes")
    finally:
        client.close()


class PrivateRedis:
    """`redis-server` on a free loopback port, keeping nothing on disk."""

    def __init__(self, tmp_path: Path) -> None:
        self.port = free_port()
        self.log = tmp_path / f"redis-{self.port}.log"
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
                try:
                    if client.ping():
                        return
                finally:
                    client.close()
            except redis.RedisError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on {self.port} did not answer:\n{self.log.read_text()}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def client(self) -> Any:
        return redis.Redis(port=self.port)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    yield server
    server.kill()


@pytest.fixture
def start_redis2ws(tmp_path: Path) -> Iterator[Launcher]:
    with Launcher(tmp_path, "servers.redis2ws") as launcher:
        yield launcher


from tests.redis_cluster import own_redis_cluster, redis_cluster  # noqa: E402, F401  (fixtures)

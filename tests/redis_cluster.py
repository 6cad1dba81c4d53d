"""A private Redis Cluster for tests: 3 masters + 3 replicas of `redis-server --cluster-enabled
yes` on free loopback ports (each ≤ 55535: the cluster bus listens on port + 10000), made one
cluster with `redis-cli --cluster create --cluster-replicas 1`. Nothing is kept on disk but the
nodes' config files in the test's directory; the shared Redis on 6379 is never touched.

Used by the lib_common, servers and misc jobs (`tests` is a package; only the standard library
and the redis-server / redis-cli binaries are needed).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

NODE_TIMEOUT_MS = 1000  # how long a silent master takes to be declared failed (then a replica takes over)
_MAX_PORT = 55535


def _free(port: int) -> bool:
    for p in (port, port + 10000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                return False
    return True


def free_cluster_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = random.randint(20000, _MAX_PORT)
        if port not in ports and _free(port):
            ports.append(port)
    return ports


def cli(port: int, *args: str, timeout_s: float = 10.0) -> str:
    done = subprocess.run(
        ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=timeout_s, check=False
    )
    return done.stdout.strip()


class RedisCluster:
    """The cluster's nodes by port; `url` is the bus's URL for it (every node a seed)."""

    def __init__(self, directory: Path, masters: int = 3, replicas: int = 1) -> None:
        self.directory = directory
        self.ports = free_cluster_ports(masters * (1 + replicas))
        self.procs: dict[int, subprocess.Popen[bytes]] = {}
        for port in self.ports:
            self.start_node(port)
        for port in self.ports:
            self._wait(lambda p=port: cli(p, "PING") == "PONG", f"node {port} answering")
        created = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{p}" for p in self.ports),
                "--cluster-replicas",
                str(replicas),
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            self.stop()
            raise RuntimeError(f"redis-cli --cluster create failed:\n{created.stdout}\n{created.stderr}")
        self.wait_healthy()

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in self.ports)

    def start_node(self, port: int) -> None:
        node_dir = self.directory / f"node-{port}"
        node_dir.mkdir(parents=True, exist_ok=True)
        with (node_dir / "log").open("ab") as out:
            self.procs[port] = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    str(node_dir / "nodes.conf"),
                    "--cluster-node-timeout",
                    str(NODE_TIMEOUT_MS),
                    "--dir",
                    str(node_dir),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def _wait(self, ready: object, what: str, timeout_s: float = 30.0) -> None:
        assert callable(ready)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                if ready():
                    return
            time.sleep(0.1)
        raise RuntimeError(f"redis cluster: timed out waiting for {what}")

    def alive(self) -> list[int]:
        return [p for p, proc in self.procs.items() if proc.poll() is None]

    def healthy(self) -> bool:
        """Every live node sees every slot served, and every live replica is in sync."""
        for port in self.alive():
            if "cluster_state:ok" not in cli(port, "CLUSTER", "INFO", timeout_s=2):
                return False
            replication = cli(port, "INFO", "replication", timeout_s=2)
            if "role:slave" in replication and "master_link_status:up" not in replication:
                return False
        return True

    def wait_healthy(self, timeout_s: float = 30.0) -> None:
        self._wait(self.healthy, "cluster_state:ok on every node", timeout_s)

    def masters(self) -> list[int]:
        """The ports of the live masters (as the first live node sees the cluster)."""
        nodes = cli(self.alive()[0], "CLUSTER", "NODES")
        ports = []
        for line in nodes.splitlines():
            fields = line.split()
            if "master" in fields[2] and "fail" not in fields[2] and len(fields) > 8:
                ports.append(int(fields[1].split("@")[0].rsplit(":", 1)[1]))
        return sorted(p for p in ports if p in self.alive())

    def master_of(self, key: str) -> int | None:
        """The port of the master serving `key`'s slot (None while none does)."""
        slot = int(cli(self.alive()[0], "CLUSTER", "KEYSLOT", key))
        for line in cli(self.alive()[0], "CLUSTER", "NODES").splitlines():
            fields = line.split()
            if "master" not in fields[2] or "fail" in fields[2]:
                continue
            for spec in fields[8:]:
                lo, _, hi = spec.partition("-")
                if lo.isdigit() and int(lo) <= slot <= int(hi or lo):
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        return None

    def kill(self, port: int) -> None:
        """SIGKILL one node (a master's replica is promoted after NODE_TIMEOUT_MS)."""
        proc = self.procs[port]
        proc.kill()
        proc.wait(10)

    def wait_promoted(self, key: str, timeout_s: float = 30.0) -> int:
        """After the master of `key` died: the port of the replica promoted in its place, once
        every live node says the cluster is ok."""
        self._wait(
            lambda: self.master_of(key) in self.alive() and self.healthy(), f"a new master for {key!r}", timeout_s
        )
        port = self.master_of(key)
        assert port is not None
        return port

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self.procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(10)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisCluster]:
    """One cluster for a test session's non-destructive tests (a failover test makes its own)."""
    cluster = RedisCluster(tmp_path_factory.mktemp("redis-cluster"))
    yield cluster
    cluster.stop()


@pytest.fixture
def own_redis_cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    """A cluster of this test's own, to kill nodes of."""
    cluster = RedisCluster(tmp_path / "cluster")
    yield cluster
    cluster.stop()


async def kill_while_flowing(cluster: RedisCluster, seen: dict[str, float], wanted: int, key: str) -> float:
    """Once `wanted` names are in `seen` (name → when last seen, time.monotonic), SIGKILL the
    master of `key`; when it was killed."""
    deadline = time.monotonic() + 15
    while len(seen) < wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert len(seen) == wanted, f"only {sorted(seen)} seen before the kill"
    victim = cluster.master_of(key)
    assert victim is not None
    cluster.kill(victim)
    return time.monotonic()


async def back_after(seen: dict[str, float], killed: float, timeout_s: float = 20.0) -> dict[str, float]:
    """Seconds after `killed` when each name was last seen, once every one was seen again (more
    than a second after the kill) or `timeout_s` passed."""
    while time.monotonic() < killed + timeout_s and not all(t > killed + 1 for t in seen.values()):
        await asyncio.sleep(0.1)
    return {name: round(t - killed, 1) for name, t in seen.items()}

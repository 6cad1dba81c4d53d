"""monitor_redis: PING latency, a heartbeat key, and INFO basics.

Each check PINGs (the latency reported), SETs `{heartbeat_key}` to the current time with a TTL,
and reads INFO's redis_version, used_memory and connected_clients. A failed check drops the
client, so the next one reconnects; in loop mode failed checks are retried with backoff.

On a Redis Cluster (`redis+cluster://HOST:PORT,...`) the PING, SET and INFO go to the master of
the heartbeat key's slot, and each check discovers the cluster afresh: unhealthy while some slot
has no healthy master; `cluster` in the result lists each master with its slot count and its
replicas (and how many are online), and `failovers` counts the masters seen replaced since the
monitor started.

{
  url: "redis://127.0.0.1:6379/0",
  heartbeat_key: "rsdev:monitor:heartbeat",
  heartbeat_ttl_s: 120,
  interval_s: 10, timeout_s: 3,  // health, log_level: as every monitor (rsdev_misc.command)
}
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass

from lib_common.config import Section
from lib_common.errors import BusError
from lib_common.flags import Option
from lib_common.redis_bus.cluster import ClusterConnection, commands_for
from lib_common.redis_bus.topology import Topology
from lib_common.redis_bus.urls import Address, redis_url_problem
from rsdev_misc.command import SCHEDULE_KEYS, Monitor, Schedule, read_schedule
from rsdev_misc.monitor import CheckResult

PROG = "monitor_redis"
DEFAULT_URL = "redis://127.0.0.1:6379/0"
SCHEDULE = Schedule(interval_s=10.0, timeout_s=3.0)


@dataclass(frozen=True, slots=True)
class RedisConfig:
    url: str = DEFAULT_URL
    heartbeat_key: str = "rsdev:monitor:heartbeat"
    heartbeat_ttl_s: int = 120
    schedule: Schedule = SCHEDULE


def from_section(root: Section) -> RedisConfig:
    root.only(["url", "heartbeat_key", "heartbeat_ttl_s", *SCHEDULE_KEYS])
    d = RedisConfig()
    url = root.optional_str("url") or d.url
    problem = redis_url_problem(url)
    if problem is not None:
        root.problem("url", problem)
    return RedisConfig(
        url=url,
        heartbeat_key=root.optional_str("heartbeat_key") or d.heartbeat_key,
        heartbeat_ttl_s=root.integer("heartbeat_ttl_s", d.heartbeat_ttl_s, minimum=1),
        schedule=read_schedule(root, d.schedule),
    )


def parse_info(text: bytes) -> dict[str, object]:
    """INFO's `key:value` lines (sections and comments skipped); whole numbers as ints."""
    info: dict[str, object] = {}
    for line in text.decode(errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            info[key] = int(value) if value.isdigit() else value
    return info


def _node(address: Address) -> str:
    return f"{address[0]}:{address[1]}"


def online_replicas(info: bytes) -> int:
    """Replicas INFO replication lists as `slaveN:ip=...,state=online,...` (connected, in sync)."""
    return sum(
        1
        for line in info.decode(errors="replace").splitlines()
        if line.startswith("slave") and ":" in line and "state=online" in line
    )


def cluster_figures(topology: Topology, online: dict[Address, int]) -> list[dict[str, object]]:
    """Each master of a discovered cluster: its slots, its replicas, and how many of them its
    INFO says are online (CLUSTER SHARDS's health says "loading" for a replica that has
    replicated nothing yet, so it is not asked)."""
    return [
        {
            "master": _node(shard.master),
            "slots": shard.slot_count,
            "replicas": [_node(r) for r in shard.replicas],
            "replicas_online": online.get(shard.master, 0),
        }
        for shard in topology.shards
    ]


class FailoverCount:
    """Masters seen replaced between checks: a master of the last topology that no longer is."""

    def __init__(self) -> None:
        self.masters: set[Address] | None = None
        self.count = 0

    def see(self, masters: list[Address]) -> int:
        now = set(masters)
        if self.masters is not None:
            self.count += len(self.masters - now)
        self.masters = now
        return self.count


class RedisProbe:
    """PING, SET and INFO on the bus's request/reply client (`RespConnection`, or a
    `ClusterConnection` for a cluster URL), reopened after a failed check."""

    def __init__(self, config: RedisConfig) -> None:
        self.config = config
        timeout_s = config.schedule.timeout_s
        self._client = commands_for(config.url, timeout_s=timeout_s, connect_timeout_s=timeout_s)
        self.failovers = FailoverCount()

    async def _probe(self) -> tuple[float, dict[str, object]]:
        client, key = self._client, self.config.heartbeat_key
        details: dict[str, object] = {}
        if isinstance(client, ClusterConnection):
            client.stale()  # every check discovers: a slot without a master is unhealthy now
            topology = await client.topology()
            infos = await client.each_master([("INFO", "replication")])
            online = {a: online_replicas(r[0]) if isinstance(r[0], bytes) else 0 for a, r in infos.items()}
            details["cluster"] = cluster_figures(topology, online)
            details["failovers"] = self.failovers.see(topology.masters)
        started = time.perf_counter()
        await client.execute("PING", key=key)
        ping_ms = (time.perf_counter() - started) * 1000
        await client.execute("SET", key, f"{time.time():.6f}", "EX", self.config.heartbeat_ttl_s, key=key)
        reply = await client.execute("INFO", key=key)
        info = parse_info(reply) if isinstance(reply, bytes) else {}
        details = {"ping_ms": round(ping_ms, 3), "heartbeat_key": key, **details}
        for name in ("redis_version", "used_memory", "connected_clients"):
            if name in info:
                details[name] = info[name]
        return ping_ms, details

    async def check(self) -> CheckResult:
        try:
            ping_ms, details = await asyncio.wait_for(self._probe(), self.config.schedule.timeout_s)
        except (BusError, TimeoutError) as exc:
            await self.close()
            return CheckResult(False, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        return CheckResult(True, latency_ms=ping_ms, details=details)

    async def close(self) -> None:
        await self._client.close()


MONITOR = Monitor(
    prog=PROG,
    description="Check Redis: PING latency, a heartbeat key with a TTL, INFO basics.",
    config_help="url, heartbeat_key, heartbeat_ttl_s, health",
    schedule=SCHEDULE,
    from_section=from_section,
    probe=RedisProbe,
    flags=[Option("--url", "url", f"Redis URL (default {DEFAULT_URL})")],
    subject="Redis",
)

if __name__ == "__main__":
    sys.exit(MONITOR.main())

"""monitor_redis: PING latency, a heartbeat key, and INFO basics.

Each check PINGs (the latency reported), SETs `{heartbeat_key}` to the current time with a TTL,
and reads INFO's redis_version, used_memory and connected_clients. A failed check drops the
client, so the next one reconnects; in loop mode failed checks are retried with backoff.

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
from lib_common.redis_bus.connection import RespConnection
from rsdev_misc.command import SCHEDULE_KEYS, Flag, Monitor, Schedule, read_schedule
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
    if not url.startswith(("redis://", "rediss://", "unix://")):
        root.problem("url", f"expected a redis://, rediss:// or unix:// URL, found {url!r}")
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


class RedisProbe:
    """PING, SET and INFO on one of the bus's raw connections (`RespConnection`), reopened after
    a failed check."""

    def __init__(self, config: RedisConfig) -> None:
        self.config = config
        timeout_s = config.schedule.timeout_s
        self._client = RespConnection(config.url, timeout_s=timeout_s, connect_timeout_s=timeout_s)

    async def _probe(self) -> tuple[float, dict[str, object]]:
        client = self._client
        started = time.perf_counter()
        await client.execute("PING")
        ping_ms = (time.perf_counter() - started) * 1000
        await client.execute("SET", self.config.heartbeat_key, f"{time.time():.6f}", "EX", self.config.heartbeat_ttl_s)
        reply = await client.execute("INFO")
        info = parse_info(reply) if isinstance(reply, bytes) else {}
        details: dict[str, object] = {"ping_ms": round(ping_ms, 3), "heartbeat_key": self.config.heartbeat_key}
        for key in ("redis_version", "used_memory", "connected_clients"):
            if key in info:
                details[key] = info[key]
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
    flags=[Flag("--url", "url", f"Redis URL (default {DEFAULT_URL})")],
    subject="Redis",
)

if __name__ == "__main__":
    sys.exit(MONITOR.main())

"""monitor_redis: PING latency, a heartbeat key, and INFO basics.

Each check PINGs (the latency reported), SETs `{heartbeat_key}` to the current time with a TTL,
and reads INFO's redis_version, used_memory and connected_clients. A failed check drops the
client, so the next one reconnects; in loop mode failed checks are retried with backoff.

{
  url: "redis://127.0.0.1:6379/0",
  heartbeat_key: "rsdev:monitor:heartbeat",
  heartbeat_ttl_s: 120,
  interval_s: 10, timeout_s: 3,
  health: { host: "127.0.0.1", port: 9412 },   // optional /health port in loop mode
  log_level: "info",
}
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from lib_common.config import Section, read_config
from lib_common.errors import BusError
from lib_common.flags import config_flags, load_or_exit, read_log_level
from lib_common.redis_bus.connection import RespConnection
from rsdev_misc.monitor import (
    MONITOR_FLAGS,
    CheckResult,
    HealthListen,
    add_monitor_flags,
    configure,
    read_health,
    run_main,
)

PROG = "monitor_redis"
DEFAULT_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True, slots=True)
class RedisConfig:
    url: str = DEFAULT_URL
    heartbeat_key: str = "rsdev:monitor:heartbeat"
    heartbeat_ttl_s: int = 120
    interval_s: float = 10.0
    timeout_s: float = 3.0
    health: HealthListen = field(default_factory=HealthListen)
    log_level: str = "info"


def from_section(root: Section) -> RedisConfig:
    root.only(["url", "heartbeat_key", "heartbeat_ttl_s", "interval_s", "timeout_s", "health", "log_level"])
    d = RedisConfig()
    url = root.optional_str("url") or d.url
    if not url.startswith(("redis://", "rediss://", "unix://")):
        root.problem("url", f"expected a redis://, rediss:// or unix:// URL, found {url!r}")
    return RedisConfig(
        url=url,
        heartbeat_key=root.optional_str("heartbeat_key") or d.heartbeat_key,
        heartbeat_ttl_s=root.integer("heartbeat_ttl_s", d.heartbeat_ttl_s, minimum=1),
        interval_s=root.number("interval_s", d.interval_s, minimum=0.01),
        timeout_s=root.number("timeout_s", d.timeout_s, minimum=0.01),
        health=read_health(root),
        log_level=read_log_level(root),
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
        self._client = RespConnection(config.url, timeout_s=config.timeout_s, connect_timeout_s=config.timeout_s)

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
            ping_ms, details = await asyncio.wait_for(self._probe(), self.config.timeout_s)
        except (BusError, TimeoutError) as exc:
            await self.close()
            return CheckResult(False, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        return CheckResult(True, latency_ms=ping_ms, details=details)

    async def close(self) -> None:
        await self._client.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check Redis: PING latency, a heartbeat key with a TTL, INFO basics. Loop mode, or --once "
        "for cron (exit 0 healthy, 1 unhealthy, 2 usage/config error).",
    )
    add_monitor_flags(parser, config_help="url, heartbeat_key, heartbeat_ttl_s, health", default_interval=10)
    parser.add_argument("--url", help=f"Redis URL (default {DEFAULT_URL})")
    return parser


FLAGS = {**MONITOR_FLAGS, "--url": "url"}


def resolve(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> RedisConfig:
    """The config file, the environment (os.environ by default) and the flags, in that order."""
    return read_config(args.config, from_section, flags=config_flags(args, FLAGS), env=env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit(PROG, lambda: resolve(args))
    configure(PROG, args, config.log_level)
    return run_main(PROG, RedisProbe(config), once=args.once, interval_s=config.interval_s, health=config.health)


if __name__ == "__main__":
    sys.exit(main())

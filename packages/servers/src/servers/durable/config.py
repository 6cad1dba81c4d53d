"""The settings every durable consumer server shares (JSON5 keys, and the flags that set them);
a server's config adds its sink's keys (server_sql's dsn, server_log's dir).

listen: { host: "127.0.0.1", port: 8774 },   // the server's /health, /status and /metrics
log_level: "info",
redis_url: "redis://127.0.0.1:6379/0",
prefix: "rsdev:",               // the stream is PREFIX + "quotes"
group: "server_sql",            // consumer group (default: the server's name)
consumer: "HOSTNAME",           // this consumer's name in the group (default: the host name)
batch_size: 5000,               // entries per XREADGROUP, and per sink transaction
max_wait_ms: 200,               // how long one read blocks waiting for new entries
claim_idle_s: 60,               // on start, take over other consumers' entries pending this long
retention_entries: 0,           // the publisher's MAXLEN; 0: the stream's current length
retention_warn_ratio: 0.8,      // warn when lag / retention reaches this
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib_common.alerts import PROGRAM_KEYS, AlertsConfig, read_program
from lib_common.config import Section
from lib_common.flags import Option
from lib_common.redis_bus.format import DEFAULT_PREFIX, stream_key, stream_keys
from lib_common.redis_bus.urls import stream_shards
from servers.kit.config import read_listen
from servers.redis_options import read_redis_url, redis_url_option

KEYS = (
    "redis_url",
    "prefix",
    "group",
    "consumer",
    "batch_size",
    "max_wait_ms",
    "claim_idle_s",
    "retention_entries",
    "retention_warn_ratio",
)


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    group: str
    redis_url: str | None = None
    prefix: str = DEFAULT_PREFIX
    consumer: str = ""
    batch_size: int = 5000
    max_wait_ms: int = 200
    claim_idle_s: float = 60.0
    retention_entries: int = 0
    retention_warn_ratio: float = 0.8

    @property
    def stream(self) -> str:
        return stream_key(self.prefix)

    @property
    def streams(self) -> list[str]:
        """The stream's keys: one, or the URL's `stream_shards` on a Redis Cluster."""
        return stream_keys(self.prefix, stream_shards(self.redis_url) if self.redis_url else 1)

    @property
    def consumer_name(self) -> str:
        return self.consumer or socket.gethostname()


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """What every durable consumer server's config has; a server's config class adds its sink's
    settings (server_sql's dsn, server_log's dir)."""

    consumer: ConsumerConfig
    host: str = "127.0.0.1"
    port: int = 0
    log_level: str = "info"
    log_dir: Path | None = None
    alerts: AlertsConfig = field(default_factory=AlertsConfig)


def read_server(root: Section, name: str, default_port: int, sink_keys: Iterable[str]) -> dict[str, Any]:
    """The `ServerConfig` fields (listen, log_level, the consumer's keys) as keyword arguments
    for a server's config class; `sink_keys` are the server's own."""
    root.only(["listen", *PROGRAM_KEYS, *KEYS, *sink_keys])
    host, port = read_listen(root, default_port)
    return {"host": host, "port": port, **read_program(root), "consumer": read_consumer(root, name)}


def read_consumer(root: Section, group: str) -> ConsumerConfig:
    d = ConsumerConfig(group)
    redis_url = read_redis_url(root, "redis_url")
    prefix = root.optional_str("prefix")
    return ConsumerConfig(
        group=root.optional_str("group") or group,
        redis_url=redis_url,
        prefix=d.prefix if prefix is None else prefix,
        consumer=root.optional_str("consumer") or "",
        batch_size=root.integer("batch_size", d.batch_size, minimum=1, maximum=100_000),
        max_wait_ms=root.integer("max_wait_ms", d.max_wait_ms, minimum=1, maximum=60_000),
        claim_idle_s=root.number("claim_idle_s", d.claim_idle_s, minimum=0.0),
        retention_entries=root.integer("retention_entries", d.retention_entries, minimum=0),
        retention_warn_ratio=root.number("retention_warn_ratio", d.retention_warn_ratio, minimum=0.01, maximum=1.0),
    )


CONSUMER_OPTIONS = (
    redis_url_option("redis_url", "Redis holding the quotes stream", required=True),
    Option("--prefix", "prefix", "key prefix; the stream is PREFIX + 'quotes' (default rsdev:)"),
    Option("--group", "group", "consumer group name (default: the server's name)"),
    Option("--consumer", "consumer", "this consumer's name in the group (default: the host name)"),
    Option("--batch-size", "batch_size", "entries per read and per write (default 5000)", type=int),
    Option("--max-wait-ms", "max_wait_ms", "how long a read waits for new entries (default 200)", type=int),
)
"""The flags every durable consumer has (lib_common.flags.Option)."""

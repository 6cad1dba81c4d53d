"""restream's configuration: JSON5 file, then command-line flags on top.

    {
      listen: { host: "127.0.0.1", port: 8765 },
      tls: { cert: "server.pem", key: "server.key" },        // WSS when both are given
      feed: { kind: "synthetic", symbols: ["AAPL"], rate: 2 },   // or:
      feed: { kind: "yahoo", upstream_url: "wss://streamer.finance.yahoo.com/?version=2",
              chart_url: "https://query2.finance.yahoo.com",  // default: derived from upstream_url
              fear_greed_url: "https://production.dataviz.cnn.io/index/fearandgreed/graphdata",
              per_connection: 100, inactivity_timeout_s: 30, failover_after_s: 10,
              poll_interval_s: 5, http_timeout_s: 10, extra_closed: ["2025-01-09"],
              hours: "nyse" },   // "always" for round-the-clock instruments (crypto)   // or:
      feed: { kind: "redis", redis_url: "redis://127.0.0.1:6379/0", prefix: "rsdev:" },  // an edge node
      publish: { redis_url: "redis://127.0.0.1:6379/0", prefix: "rsdev:",   // the section turns it on
                 stream_maxlen: 1000000, buffer: 100000, symbols: ["AAPL"] },  // see docs/redis.md
      tenants: [ { name: "desk", token: "…", priority: 10, max_connections: 50, symbols: ["*"] } ],
      memory: { budget_bytes: 67108864, client_queue: 1024, stall_timeout_s: 10,
                high_water_bytes: 65536, sndbuf_bytes: 65536 },
      registry: { linger_s: 30 },
      limits: { max_symbols_per_message: 100, max_symbols_per_client: 500,
                max_message_bytes: 65536, messages_per_second: 20, burst: 40 },
      log_level: "info",
    }

Without tenants the gateway serves anyone who connects (the offline default).
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from lib_common.config import Section, load_json5, parse_json5
from lib_common.errors import ConfigError
from lib_common.redis_bus.format import DEFAULT_PREFIX, DEFAULT_REDIS_URL, DEFAULT_STREAM_MAXLEN
from lib_common.redis_bus.publisher import DEFAULT_BUFFER
from servers.redis_options import read_redis_url
from servers.serving import LOG_LEVELS

FEEDS = ("synthetic", "yahoo", "redis")
HOURS = ("nyse", "always")
YAHOO_STREAMER_URL = "wss://streamer.finance.yahoo.com/?version=2"


@dataclass(frozen=True, slots=True)
class Tenant:
    name: str
    token: str
    priority: int = 0
    max_connections: int = 100
    symbols: tuple[str, ...] = ("*",)  # shell-style patterns, e.g. "BTC-*"

    def allows(self, symbol: str) -> bool:
        return any(fnmatchcase(symbol, pattern) for pattern in self.symbols)


# Without tenants everyone is "anonymous", bounded only by the machine (and the memory guard).
OPEN_TENANT = Tenant(name="anonymous", token="", max_connections=1_000_000)


@dataclass(frozen=True, slots=True)
class FeedConfig:
    kind: str = "synthetic"
    # synthetic
    symbols: tuple[str, ...] | None = None
    rate: float = 2.0
    # yahoo
    upstream_url: str = YAHOO_STREAMER_URL
    chart_url: str | None = None
    fear_greed_url: str | None = None
    per_connection: int = 100
    inactivity_timeout_s: float = 30.0
    failover_after_s: float = 10.0
    poll_interval_s: float = 5.0
    http_timeout_s: float = 10.0
    extra_closed: tuple[date, ...] = ()
    # "nyse": quiet outside NYSE hours is expected (no failover, slow polling);
    # "always": the instruments trade around the clock (crypto), so silence is a failure at any hour.
    hours: str = "nyse"
    # redis (an edge node: quotes an ingest node publishes)
    redis_url: str = DEFAULT_REDIS_URL
    prefix: str = DEFAULT_PREFIX


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """Publishing every dispatched quote frame to Redis (an ingest node)."""

    enabled: bool = False
    redis_url: str = DEFAULT_REDIS_URL
    prefix: str = DEFAULT_PREFIX
    stream_maxlen: int = DEFAULT_STREAM_MAXLEN
    buffer: int = DEFAULT_BUFFER  # frames waiting for Redis; beyond it the oldest are dropped
    # Symbols the feed quotes (and so publishes) whether or not a local client wants them; the
    # default is the feed's own `symbols`. Edge nodes can only serve what an ingest publishes.
    symbols: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    budget_bytes: int = 64 * 1024 * 1024
    client_queue: int = 1024
    stall_timeout_s: float = 10.0
    high_water_bytes: int = 64 * 1024
    sndbuf_bytes: int = 64 * 1024  # 0 leaves the kernel's default (up to ~4 MiB of hidden backlog)


@dataclass(frozen=True, slots=True)
class ClientLimits:
    """What one client may ask of a gateway: names (symbols for restream, channels and patterns
    for redis2ws) per message and in all, a message's size, and its message rate (token bucket).
    In the config the first two are named for the noun: `max_symbols_per_message`,
    `max_channels_per_client`, ..."""

    max_per_message: int = 100
    max_per_client: int = 500
    max_message_bytes: int = 64 * 1024
    messages_per_second: float = 20.0
    burst: int = 40


@dataclass(frozen=True, slots=True)
class RestreamConfig:
    host: str = "127.0.0.1"
    port: int = 8765
    tls_cert: Path | None = None
    tls_key: Path | None = None
    feed: FeedConfig = field(default_factory=FeedConfig)
    tenants: tuple[Tenant, ...] = ()
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    linger_s: float = 30.0
    limits: ClientLimits = field(default_factory=ClientLimits)
    publish: PublishConfig = field(default_factory=PublishConfig)
    log_level: str = "info"

    @property
    def pinned_symbols(self) -> tuple[str, ...]:
        """What the feed quotes with no client asking: what a publishing node publishes."""
        if not self.publish.enabled:
            return ()
        return self.publish.symbols or self.feed.symbols or ()

    def checked(self) -> RestreamConfig:
        """The config, once combinations that cannot work are ruled out."""
        if (
            self.publish.enabled
            and self.feed.kind == "redis"
            and (self.publish.redis_url, self.publish.prefix) == (self.feed.redis_url, self.feed.prefix)
        ):
            raise ConfigError(
                "publish",
                "an edge node (feed redis) publishing to the Redis and prefix it reads would loop its own "
                "frames; give publish another prefix or redis_url",
            )
        return self

    def tenant_for(self, token: str | None) -> Tenant | None:
        """The tenant a token belongs to; the open tenant when none are configured."""
        return find_tenant(self.tenants, token, OPEN_TENANT)

    def with_overrides(self, **overrides: object) -> RestreamConfig:
        """Flags on top of the file: None means the flag was not given. Feed settings are
        named `feed_<field>` (e.g. feed_kind, feed_rate), publish settings `publish_<field>`."""
        given = {k: v for k, v in overrides.items() if v is not None}
        feed = {k.removeprefix("feed_"): v for k, v in given.items() if k.startswith("feed_")}
        publish = {k.removeprefix("publish_"): v for k, v in given.items() if k.startswith("publish_")}
        top = {k: v for k, v in given.items() if not k.startswith(("feed_", "publish_"))}
        return replace(
            self,
            feed=replace(self.feed, **feed),  # type: ignore[arg-type]
            publish=replace(self.publish, **publish),  # type: ignore[arg-type]
            **top,  # type: ignore[arg-type]
        ).checked()


class _HasToken(Protocol):
    @property
    def token(self) -> str: ...


TokenT = TypeVar("TokenT", bound=_HasToken)


def find_tenant(tenants: tuple[TokenT, ...], token: str | None, open_tenant: TokenT) -> TokenT | None:
    """The tenant a token belongs to (compared in constant time); `open_tenant` when none are
    configured; None for a missing or unknown token."""
    if not tenants:
        return open_tenant
    for tenant in tenants:
        if token is not None and hmac.compare_digest(token.encode(), tenant.token.encode()):
            return tenant
    return None


def load_config(path: str | Path | None) -> RestreamConfig:
    if path is None:
        return RestreamConfig()
    return from_section(load_json5(path), base_dir=Path(path).parent)


def parse_config(text: str, source: str = "<config>", base_dir: Path = Path(".")) -> RestreamConfig:
    return from_section(parse_json5(text, source), base_dir=base_dir)


def from_section(root: Section, base_dir: Path) -> RestreamConfig:
    root.only(["listen", "tls", "feed", "tenants", "memory", "registry", "limits", "publish", "log_level"])
    listen = root.section("listen")
    listen.only(["host", "port"])
    tls_cert, tls_key = read_tls(root, base_dir)
    log_level = root.optional_str("log_level") or "info"
    if log_level not in LOG_LEVELS:
        raise root.error("log_level", f"expected one of {', '.join(LOG_LEVELS)}, found {log_level!r}")
    return RestreamConfig(
        host=listen.optional_str("host") or "127.0.0.1",
        port=listen.integer("port", 8765, minimum=0, maximum=65535),
        tls_cert=tls_cert,
        tls_key=tls_key,
        feed=_feed(root.section("feed")),
        tenants=_tenants(root),
        memory=read_memory(root.section("memory")),
        linger_s=read_linger(root.section("registry")),
        limits=read_limits(root.section("limits"), "symbols"),
        publish=_publish(root.section("publish"), present="publish" in root),
        log_level=log_level,
    ).checked()


_FEED = FeedConfig()


def _http_url(section: Section, key: str) -> str | None:
    url = section.optional_str(key)
    if url is not None and urlsplit(url).scheme not in ("http", "https"):
        raise section.error(key, f"expected an http:// or https:// URL, found {url!r}")
    return url


def _feed(section: Section) -> FeedConfig:
    section.only([f.name for f in fields(FeedConfig)])
    kind = section.optional_str("kind") or "synthetic"
    if kind not in FEEDS:
        raise section.error("kind", f"unknown feed {kind!r}; expected one of {', '.join(FEEDS)}")
    symbols = section.optional_str_list("symbols")
    upstream_url = section.optional_str("upstream_url") or _FEED.upstream_url
    if urlsplit(upstream_url).scheme not in ("ws", "wss"):
        raise section.error("upstream_url", f"expected a ws:// or wss:// URL, found {upstream_url!r}")
    chart_url = _http_url(section, "chart_url")
    fear_greed_url = _http_url(section, "fear_greed_url")
    hours = section.optional_str("hours") or "nyse"
    if hours not in HOURS:
        raise section.error("hours", f"expected one of {', '.join(HOURS)}, found {hours!r}")
    extra_closed: list[date] = []
    for i, text in enumerate(section.optional_str_list("extra_closed") or []):
        try:
            extra_closed.append(date.fromisoformat(text))
        except ValueError:
            raise section.error(f"extra_closed[{i}]", f"expected a date YYYY-MM-DD, found {text!r}") from None
    return FeedConfig(
        kind=kind,
        symbols=tuple(s.upper() for s in symbols) if symbols else None,
        rate=section.number("rate", _FEED.rate, minimum=0.001, maximum=100_000),
        upstream_url=upstream_url,
        chart_url=chart_url,
        fear_greed_url=fear_greed_url,
        per_connection=section.integer("per_connection", _FEED.per_connection, minimum=1, maximum=1000),
        inactivity_timeout_s=section.number("inactivity_timeout_s", _FEED.inactivity_timeout_s, minimum=0.1),
        failover_after_s=section.number("failover_after_s", _FEED.failover_after_s, minimum=0.0),
        poll_interval_s=section.number("poll_interval_s", _FEED.poll_interval_s, minimum=0.1),
        http_timeout_s=section.number("http_timeout_s", _FEED.http_timeout_s, minimum=0.1),
        extra_closed=tuple(extra_closed),
        hours=hours,
        redis_url=read_redis_url(section, "redis_url") or _FEED.redis_url,
        prefix=section.optional_str("prefix") or _FEED.prefix,
    )


_PUBLISH = PublishConfig()


def _publish(section: Section, *, present: bool) -> PublishConfig:
    section.only([f.name for f in fields(PublishConfig)])
    symbols = section.optional_str_list("symbols")
    return PublishConfig(
        enabled=section.flag("enabled", present),
        redis_url=read_redis_url(section, "redis_url") or _PUBLISH.redis_url,
        prefix=section.optional_str("prefix") or _PUBLISH.prefix,
        stream_maxlen=section.integer("stream_maxlen", _PUBLISH.stream_maxlen, minimum=1),
        buffer=section.integer("buffer", _PUBLISH.buffer, minimum=1),
        symbols=tuple(s.upper() for s in symbols) if symbols else None,
    )


def _tenants(root: Section) -> tuple[Tenant, ...]:
    return read_tenants(
        root,
        "symbols",
        lambda name, token, priority, most, patterns: Tenant(
            name, token, priority, most, tuple(p.upper() for p in patterns)
        ),
    )


TenantT = TypeVar("TenantT")


def read_tenants(
    root: Section, patterns_key: str, make: Callable[[str, str, int, int, tuple[str, ...]], TenantT]
) -> tuple[TenantT, ...]:
    """The `tenants: [{name, token, priority, max_connections, <patterns_key>}]` list; names and
    tokens unique. `make(name, token, priority, max_connections, patterns)` builds each."""
    tenants: list[TenantT] = []
    names: set[str] = set()
    tokens: set[str] = set()
    for section in root.sections("tenants"):
        section.only(["name", "token", "priority", "max_connections", patterns_key])
        name = section.required_str("name")
        token = section.required_str("token")
        if name in names:
            raise section.error("name", f"tenant {name!r} is defined twice")
        if token in tokens:
            raise section.error("token", f"tenant {name!r} reuses another tenant's token")
        names.add(name)
        tokens.add(token)
        tenants.append(
            make(
                name,
                token,
                section.integer("priority", 0),
                section.integer("max_connections", 100, minimum=1),
                tuple(section.optional_str_list(patterns_key) or ["*"]),
            )
        )
    return tuple(tenants)


_MEMORY = MemoryConfig()
_LIMITS = ClientLimits()


def read_tls(root: Section, base_dir: Path) -> tuple[Path | None, Path | None]:
    """The `tls: {cert, key}` section: both or neither, relative to the config file."""
    tls = root.section("tls")
    tls.only(["cert", "key"])
    cert, key = tls.optional_str("cert"), tls.optional_str("key")
    if (cert is None) != (key is None):
        raise tls.error(None, "give both cert and key for TLS, or neither")
    return (base_dir / cert if cert else None), (base_dir / key if key else None)


def read_memory(section: Section) -> MemoryConfig:
    section.only(["budget_bytes", "client_queue", "stall_timeout_s", "high_water_bytes", "sndbuf_bytes"])
    return MemoryConfig(
        budget_bytes=section.integer("budget_bytes", _MEMORY.budget_bytes, minimum=4096),
        client_queue=section.integer("client_queue", _MEMORY.client_queue, minimum=1),
        stall_timeout_s=section.number("stall_timeout_s", _MEMORY.stall_timeout_s, minimum=0.1),
        high_water_bytes=section.integer("high_water_bytes", _MEMORY.high_water_bytes, minimum=1024),
        sndbuf_bytes=section.integer("sndbuf_bytes", _MEMORY.sndbuf_bytes, minimum=0),
    )


def read_linger(section: Section) -> float:
    section.only(["linger_s"])
    return section.number("linger_s", 30.0, minimum=0.0)


def read_limits(section: Section, noun: str) -> ClientLimits:
    """The `limits` section; `noun` names what clients subscribe to ("symbols", "channels")."""
    per_message, per_client = f"max_{noun}_per_message", f"max_{noun}_per_client"
    section.only([per_message, per_client, "max_message_bytes", "messages_per_second", "burst"])
    return ClientLimits(
        max_per_message=section.integer(per_message, _LIMITS.max_per_message, minimum=1),
        max_per_client=section.integer(per_client, _LIMITS.max_per_client, minimum=1),
        max_message_bytes=section.integer("max_message_bytes", _LIMITS.max_message_bytes, minimum=64, maximum=1 << 20),
        messages_per_second=section.number("messages_per_second", _LIMITS.messages_per_second, minimum=0.1),
        burst=section.integer("burst", _LIMITS.burst, minimum=1),
    )


__all__ = [
    "ClientLimits",
    "ConfigError",
    "FeedConfig",
    "MemoryConfig",
    "PublishConfig",
    "RestreamConfig",
    "Tenant",
    "load_config",
    "parse_config",
]

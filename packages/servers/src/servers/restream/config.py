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
              hours: "nyse" },   // "always" for round-the-clock instruments (crypto)
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
from dataclasses import dataclass, field, fields, replace
from datetime import date
from fnmatch import fnmatchcase
from pathlib import Path
from urllib.parse import urlsplit

from lib_common.config import Section, load_json5, parse_json5
from lib_common.errors import ConfigError
from servers.serving import LOG_LEVELS

FEEDS = ("synthetic", "yahoo")
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


@dataclass(frozen=True, slots=True)
class MemoryConfig:
    budget_bytes: int = 64 * 1024 * 1024
    client_queue: int = 1024
    stall_timeout_s: float = 10.0
    high_water_bytes: int = 64 * 1024
    sndbuf_bytes: int = 64 * 1024  # 0 leaves the kernel's default (up to ~4 MiB of hidden backlog)


@dataclass(frozen=True, slots=True)
class Limits:
    max_symbols_per_message: int = 100
    max_symbols_per_client: int = 500
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
    limits: Limits = field(default_factory=Limits)
    log_level: str = "info"

    def tenant_for(self, token: str | None) -> Tenant | None:
        """The tenant a token belongs to; the open tenant when none are configured."""
        if not self.tenants:
            return OPEN_TENANT
        for tenant in self.tenants:
            if token is not None and _same(token, tenant.token):
                return tenant
        return None

    def with_overrides(self, **overrides: object) -> RestreamConfig:
        """Flags on top of the file: None means the flag was not given. Feed settings are
        named `feed_<field>` (e.g. feed_kind, feed_rate)."""
        given = {k: v for k, v in overrides.items() if v is not None}
        feed = {k.removeprefix("feed_"): v for k, v in given.items() if k.startswith("feed_")}
        top = {k: v for k, v in given.items() if not k.startswith("feed_")}
        return replace(self, feed=replace(self.feed, **feed), **top)  # type: ignore[arg-type]


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def load_config(path: str | Path | None) -> RestreamConfig:
    if path is None:
        return RestreamConfig()
    return from_section(load_json5(path), base_dir=Path(path).parent)


def parse_config(text: str, source: str = "<config>", base_dir: Path = Path(".")) -> RestreamConfig:
    return from_section(parse_json5(text, source), base_dir=base_dir)


def from_section(root: Section, base_dir: Path) -> RestreamConfig:
    root.only(["listen", "tls", "feed", "tenants", "memory", "registry", "limits", "log_level"])
    listen = root.section("listen")
    listen.only(["host", "port"])
    tls = root.section("tls")
    tls.only(["cert", "key"])
    cert, key = tls.optional_str("cert"), tls.optional_str("key")
    if (cert is None) != (key is None):
        raise tls.error(None, "give both cert and key for TLS, or neither")
    log_level = root.optional_str("log_level") or "info"
    if log_level not in LOG_LEVELS:
        raise root.error("log_level", f"expected one of {', '.join(LOG_LEVELS)}, found {log_level!r}")
    return RestreamConfig(
        host=listen.optional_str("host") or "127.0.0.1",
        port=listen.integer("port", 8765, minimum=0, maximum=65535),
        tls_cert=base_dir / cert if cert else None,
        tls_key=base_dir / key if key else None,
        feed=_feed(root.section("feed")),
        tenants=_tenants(root),
        memory=_memory(root.section("memory")),
        linger_s=_registry(root.section("registry")),
        limits=_limits(root.section("limits")),
        log_level=log_level,
    )


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
    )


def _tenants(root: Section) -> tuple[Tenant, ...]:
    tenants: list[Tenant] = []
    for section in root.sections("tenants"):
        section.only(["name", "token", "priority", "max_connections", "symbols"])
        tenant = Tenant(
            name=section.required_str("name"),
            token=section.required_str("token"),
            priority=section.integer("priority", 0),
            max_connections=section.integer("max_connections", 100, minimum=1),
            symbols=tuple(p.upper() for p in (section.optional_str_list("symbols") or ["*"])),
        )
        if any(t.name == tenant.name for t in tenants):
            raise section.error("name", f"tenant {tenant.name!r} is defined twice")
        if any(t.token == tenant.token for t in tenants):
            raise section.error("token", f"tenant {tenant.name!r} reuses another tenant's token")
        tenants.append(tenant)
    return tuple(tenants)


_MEMORY = MemoryConfig()
_LIMITS = Limits()


def _memory(section: Section) -> MemoryConfig:
    section.only(["budget_bytes", "client_queue", "stall_timeout_s", "high_water_bytes", "sndbuf_bytes"])
    return MemoryConfig(
        budget_bytes=section.integer("budget_bytes", _MEMORY.budget_bytes, minimum=4096),
        client_queue=section.integer("client_queue", _MEMORY.client_queue, minimum=1),
        stall_timeout_s=section.number("stall_timeout_s", _MEMORY.stall_timeout_s, minimum=0.1),
        high_water_bytes=section.integer("high_water_bytes", _MEMORY.high_water_bytes, minimum=1024),
        sndbuf_bytes=section.integer("sndbuf_bytes", _MEMORY.sndbuf_bytes, minimum=0),
    )


def _registry(section: Section) -> float:
    section.only(["linger_s"])
    return section.number("linger_s", 30.0, minimum=0.0)


def _limits(section: Section) -> Limits:
    section.only(
        ["max_symbols_per_message", "max_symbols_per_client", "max_message_bytes", "messages_per_second", "burst"]
    )
    limits = Limits(
        max_symbols_per_message=section.integer("max_symbols_per_message", _LIMITS.max_symbols_per_message, minimum=1),
        max_symbols_per_client=section.integer("max_symbols_per_client", _LIMITS.max_symbols_per_client, minimum=1),
        max_message_bytes=section.integer("max_message_bytes", _LIMITS.max_message_bytes, minimum=64, maximum=1 << 20),
        messages_per_second=section.number("messages_per_second", _LIMITS.messages_per_second, minimum=0.1),
        burst=section.integer("burst", _LIMITS.burst, minimum=1),
    )
    return limits


__all__ = [
    "ConfigError",
    "FeedConfig",
    "Limits",
    "MemoryConfig",
    "RestreamConfig",
    "Tenant",
    "load_config",
    "parse_config",
]

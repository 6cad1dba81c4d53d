"""redis2ws's configuration (JSON5), flags on top.

{
  listen: { host: "127.0.0.1", port: 8780 },
  tls: { cert: "server.pem", key: "server.key" },       // WSS when both are given
  redis_url: "redis://127.0.0.1:6379/0",
  // Channel globs each tenant may use (Redis glob syntax: * ? [...]); without tenants,
  // anyone may subscribe to anything.
  tenants: [ { name: "desk", token: "…", priority: 10, max_connections: 50,
               channels: ["rsdev:quote:*"] } ],
  memory: { budget_bytes: 67108864, client_queue: 1024, stall_timeout_s: 10,
            high_water_bytes: 65536, sndbuf_bytes: 65536 },
  registry: { linger_s: 30 },
  limits: { max_channels_per_message: 100, max_channels_per_client: 500,
            max_message_bytes: 65536, messages_per_second: 20, burst: 40 },
  log_level: "info",
}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from lib_common.config import Section, load_json5, parse_json5
from lib_common.redis_bus.format import DEFAULT_REDIS_URL
from servers.redis_options import read_redis_url
from servers.restream.config import (
    ClientLimits,
    MemoryConfig,
    find_tenant,
    read_limits,
    read_linger,
    read_memory,
    read_tenants,
    read_tls,
)
from servers.serving import read_listen, read_log_level

DEFAULT_PORT = 8780
_GLOB_SPECIALS = frozenset("*?[]\\")


@dataclass(frozen=True, slots=True)
class ChannelTenant:
    name: str
    token: str
    priority: int = 0
    max_connections: int = 100
    channels: tuple[str, ...] = ("*",)  # Redis-style globs

    def allows_channel(self, channel: str) -> bool:
        return any(fnmatchcase(channel, glob) for glob in self.channels)

    def allows_pattern(self, pattern: str) -> bool:
        """Whether every channel `pattern` can match is allowed. Decided soundly, not fully: the
        pattern is the same as a grant, or a grant is `PREFIX*` (no other wildcard) and the
        pattern starts with that PREFIX; a pattern without wildcards is a channel."""
        if not _GLOB_SPECIALS & set(pattern):
            return self.allows_channel(pattern)
        for glob in self.channels:
            if pattern == glob:
                return True
            head = glob[:-1]
            if glob.endswith("*") and not _GLOB_SPECIALS & set(head) and pattern.startswith(head):
                return True
        return False


OPEN_TENANT = ChannelTenant(name="anonymous", token="", max_connections=1_000_000)


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    tls_cert: Path | None = None
    tls_key: Path | None = None
    redis_url: str = DEFAULT_REDIS_URL
    tenants: tuple[ChannelTenant, ...] = ()
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    linger_s: float = 30.0
    limits: ClientLimits = field(default_factory=ClientLimits)
    log_level: str = "info"

    def tenant_for(self, token: str | None) -> ChannelTenant | None:
        return find_tenant(self.tenants, token, OPEN_TENANT)


def load_config(path: str | Path | None) -> BridgeConfig:
    return BridgeConfig() if path is None else from_section(load_json5(path), Path(path).parent)


def parse_config(text: str, source: str = "<config>", base_dir: Path = Path(".")) -> BridgeConfig:
    return from_section(parse_json5(text, source), base_dir)


def from_section(root: Section, base_dir: Path) -> BridgeConfig:
    root.only(["listen", "tls", "redis_url", "tenants", "memory", "registry", "limits", "log_level"])
    host, port = read_listen(root, DEFAULT_PORT)
    tls_cert, tls_key = read_tls(root, base_dir)
    return BridgeConfig(
        host=host,
        port=port,
        tls_cert=tls_cert,
        tls_key=tls_key,
        redis_url=read_redis_url(root, "redis_url") or DEFAULT_REDIS_URL,
        tenants=read_tenants(root, "channels", ChannelTenant),
        memory=read_memory(root.section("memory")),
        linger_s=read_linger(root.section("registry")),
        limits=read_limits(root.section("limits"), "channels"),
        log_level=read_log_level(root),
    )

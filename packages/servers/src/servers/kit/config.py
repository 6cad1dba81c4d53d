"""The config pieces the servers share, each read from its own section of a JSON5 config:

    listen: { host: "127.0.0.1", port: 8765 },
    tls: { cert: "server.pem", key: "server.key" },       // relative to the config file
    http: { allowed_hosts: [], allowed_origins: [], figures_token: "…" },  // kit.http_policy
    tenants: [ { name: "desk", token: "…", priority: 10, max_connections: 50, <grants>: ["*"] } ],
    memory: { budget_bytes: 67108864, client_queue: 1024, stall_timeout_s: 10,
              high_water_bytes: 65536, sndbuf_bytes: 65536 },
    registry: { linger_s: 30, max_lingering: 1000 },
    limits: { max_<noun>_per_message: 100, max_<noun>_per_client: 500,
              max_message_bytes: 65536, messages_per_second: 20, burst: 40,
              handshake_timeout_s: 10, max_connections_per_ip: 256, max_connections_total: 4096,
              fd_headroom: 64 },

What a tenant is granted is named by the server: `symbols` in restream, `channels` in redis2ws.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from lib_common import web_urls
from lib_common.alerts import PROGRAM_KEYS, AlertsConfig, read_program
from lib_common.config import Section
from servers.kit import tls as tls_files
from servers.kit.http_policy import HttpPolicy, read_http
from servers.kit.standby import standby_problem

DEFAULT_LINGER_S = 30.0
DEFAULT_MAX_LINGERING = 1000


@dataclass(frozen=True, slots=True)
class Tenant:
    """Who a token belongs to: its eviction priority, its connection limit, and its grants,
    shell-style globs of the names it may subscribe to (symbols, or Redis channels)."""

    name: str
    token: str
    priority: int = 0
    max_connections: int = 100
    grants: tuple[str, ...] = ("*",)

    def allows(self, name: str) -> bool:
        return any(fnmatchcase(name, grant) for grant in self.grants)


# Without tenants everyone is "anonymous", bounded only by the machine (and the memory guard).
OPEN_TENANT = Tenant(name="anonymous", token="", max_connections=1_000_000)


def find_tenant(tenants: tuple[Tenant, ...], token: str | None) -> Tenant | None:
    """The tenant a token belongs to (compared in constant time); the open tenant when none are
    configured; None for a missing or unknown token."""
    if not tenants:
        return OPEN_TENANT
    for tenant in tenants:
        if token is not None and hmac.compare_digest(token.encode(), tenant.token.encode()):
            return tenant
    return None


def read_tenants(
    root: Section, grants_key: str, normalise: Callable[[str], str] = lambda grant: grant
) -> tuple[Tenant, ...]:
    """The `tenants: [{name, token, priority, max_connections, <grants_key>}]` list; names and
    tokens unique; each grant passed through `normalise` (restream upper-cases symbols)."""
    tenants: list[Tenant] = []
    names: set[str] = set()
    tokens: set[str] = set()
    for section in root.sections("tenants"):
        section.only(["name", "token", "priority", "max_connections", grants_key])
        name = section.required_str("name")
        token = section.required_str("token")
        if name in names:
            section.problem("name", f"tenant {name!r} is defined twice")
            continue
        if token in tokens:
            section.problem("token", f"tenant {name!r} reuses another tenant's token")
            continue
        names.add(name)
        tokens.add(token)
        grants = section.optional_str_list(grants_key) or ["*"]
        tenants.append(
            Tenant(
                name,
                token,
                section.integer("priority", 0),
                section.integer("max_connections", 100, minimum=1),
                tuple(normalise(grant) for grant in grants),
            )
        )
    return tuple(tenants)


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
    for redis2ws) per message and in all, a message's size, and its message rate (token bucket,
    pings and pongs included). In the config the first two are named for the noun:
    `max_symbols_per_message`, `max_channels_per_client`, ...

    And what connections the server holds (servers.kit.connections): a request head must come
    within `handshake_timeout_s`; at most `max_connections_per_ip` from one address (429) and
    `max_connections_total` in all (503), and no more than leave `fd_headroom` descriptors free
    under the process's RLIMIT_NOFILE (503). docs/security.md says what each defends."""

    max_per_message: int = 100
    max_per_client: int = 500
    max_message_bytes: int = 64 * 1024
    messages_per_second: float = 20.0
    burst: int = 40
    handshake_timeout_s: float = 10.0
    max_connections_per_ip: int = 256
    max_connections_total: int = 4096
    fd_headroom: int = 64


_MEMORY = MemoryConfig()
_LIMITS = ClientLimits()
CONNECTION_KEYS = ("handshake_timeout_s", "max_connections_per_ip", "max_connections_total", "fd_headroom")
MEMORY_KEYS = ("budget_bytes", "client_queue", "stall_timeout_s", "high_water_bytes", "sndbuf_bytes")


def read_listen(root: Section, default_port: int, *, extra: tuple[str, ...] = ()) -> tuple[str, int]:
    """The `listen: {host, port}` section every server's config has (`extra`: keys a server
    reads from it besides)."""
    listen = root.section("listen")
    listen.only(["host", "port", *extra])
    return listen.optional_str("host") or "127.0.0.1", listen.integer("port", default_port, minimum=0, maximum=65535)


@dataclass(frozen=True, slots=True)
class UrlKind:
    schemes: tuple[str, ...]
    text: str  # what the error says was expected


WS_URL = UrlKind(("ws", "wss"), "a ws:// or wss:// URL")
HTTP_URL = UrlKind(("http", "https"), "an http:// or https:// URL")


def url_problem(url: str, kind: UrlKind) -> str | None:
    """What is wrong with `url` as a `kind` URL; None: nothing (lib_common.web_urls)."""
    return web_urls.url_problem(url, kind.schemes, kind.text)


def read_url(section: Section, key: str, kind: UrlKind) -> str | None:
    """An optional URL of `kind` (WS_URL, HTTP_URL); a bad one is reported and reads as absent."""
    url = section.optional_str(key)
    problem = None if url is None else url_problem(url, kind)
    if problem is not None:
        section.problem(key, problem)
        return None
    return url


def read_tls(root: Section, base_dir: Path) -> tuple[Path | None, Path | None]:
    """The `tls: {cert, key}` section: both or neither, relative to the config file, and a pair
    that can serve TLS (servers.kit.tls: a problem is reported at the file's key)."""
    tls = root.section("tls")
    tls.only(["cert", "key"])
    cert, key = tls.optional_str("cert"), tls.optional_str("key")
    if ("cert" in tls) != ("key" in tls):  # by presence: a value refused is reported already
        tls.problem(None, "give both cert and key for TLS, or neither")
        return None, None
    if not cert or not key:
        return None, None
    cert_path, key_path = base_dir / cert, base_dir / key
    problem = tls_files.problem(cert_path, key_path)
    if problem is not None:
        tls.problem(problem.which, problem.message)
        return None, None
    return cert_path, key_path


def read_memory(section: Section, keys: Iterable[str] = MEMORY_KEYS) -> MemoryConfig:
    """The `memory` section; `keys` are the ones this server's config takes."""
    section.only(keys)
    return MemoryConfig(
        budget_bytes=section.integer("budget_bytes", _MEMORY.budget_bytes, minimum=4096),
        client_queue=section.integer("client_queue", _MEMORY.client_queue, minimum=1),
        stall_timeout_s=section.number("stall_timeout_s", _MEMORY.stall_timeout_s, minimum=0.1),
        high_water_bytes=section.integer("high_water_bytes", _MEMORY.high_water_bytes, minimum=1024),
        sndbuf_bytes=section.integer("sndbuf_bytes", _MEMORY.sndbuf_bytes, minimum=0),
    )


def read_registry(section: Section) -> dict[str, Any]:
    """The `registry: {linger_s, max_lingering}` section, as GatewayConfig keyword arguments."""
    section.only(["linger_s", "max_lingering"])
    return {
        "linger_s": section.number("linger_s", DEFAULT_LINGER_S, minimum=0.0),
        "max_lingering": section.integer("max_lingering", DEFAULT_MAX_LINGERING, minimum=0),
    }


def read_limits(section: Section, noun: str) -> ClientLimits:
    """The `limits` section; `noun` names what clients subscribe to ("symbols", "channels")."""
    per_message, per_client = f"max_{noun}_per_message", f"max_{noun}_per_client"
    section.only([per_message, per_client, "max_message_bytes", "messages_per_second", "burst", *CONNECTION_KEYS])
    return ClientLimits(
        max_per_message=section.integer(per_message, _LIMITS.max_per_message, minimum=1),
        max_per_client=section.integer(per_client, _LIMITS.max_per_client, minimum=1),
        max_message_bytes=section.integer("max_message_bytes", _LIMITS.max_message_bytes, minimum=64, maximum=1 << 20),
        messages_per_second=section.number("messages_per_second", _LIMITS.messages_per_second, minimum=0.1),
        burst=section.integer("burst", _LIMITS.burst, minimum=1),
        handshake_timeout_s=section.number("handshake_timeout_s", _LIMITS.handshake_timeout_s, minimum=0.1),
        max_connections_per_ip=section.integer("max_connections_per_ip", _LIMITS.max_connections_per_ip, minimum=1),
        max_connections_total=section.integer("max_connections_total", _LIMITS.max_connections_total, minimum=1),
        fd_headroom=section.integer("fd_headroom", _LIMITS.fd_headroom, minimum=0),
    )


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """What every fan-out gateway's config has; a server's config adds its own source's part
    (and its default port)."""

    host: str = "127.0.0.1"
    port: int = 0
    # SO_REUSEPORT on the listening socket, so that a successor can listen beside this process
    # before it hands over (a planned restart, docs/pmdaemon.md); off by default, so a second
    # instance started by mistake fails with "address already in use".
    reuse_port: bool = False
    # A warm standby (servers.kit.standby): processes given the same lock file serve one at a
    # time, the others started and waiting to take over at once.
    standby_lock: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tenants: tuple[Tenant, ...] = ()
    memory: MemoryConfig = field(default_factory=MemoryConfig)
    linger_s: float = DEFAULT_LINGER_S
    # Symbols nobody holds any more kept subscribed upstream for their linger, at the most (the
    # oldest go first past it): bounds the upstream work a churning client can leave behind.
    max_lingering: int = DEFAULT_MAX_LINGERING
    limits: ClientLimits = field(default_factory=ClientLimits)
    log_level: str = "info"
    log_dir: Path | None = None
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    http: HttpPolicy = field(default_factory=HttpPolicy)


GATEWAY_KEYS = ("listen", "tls", "http", "tenants", "memory", "registry", "limits", *PROGRAM_KEYS)


def read_gateway(
    root: Section,
    base_dir: Path,
    *,
    default_port: int,
    noun: str,
    normalise: Callable[[str], str] = lambda grant: grant,
) -> dict[str, Any]:
    """The `GatewayConfig` fields from their sections, as keyword arguments for a server's config
    class; `noun` names the tenants' grants and the limits' keys ("symbols", "channels")."""
    host, port = read_listen(root, default_port, extra=("reuse_port", "standby_lock"))
    tls_cert, tls_key = read_tls(root, base_dir)
    listen = root.section("listen")
    reuse_port = listen.flag("reuse_port", False)
    standby_lock = listen.optional_str("standby_lock")
    if standby_lock is not None and not reuse_port:
        listen.problem("standby_lock", "needs reuse_port: true (a standby listens beside the leaving process)")
    elif standby_lock is not None and (problem := standby_problem()) is not None:
        listen.problem("standby_lock", problem)
    return {
        "host": host,
        "port": port,
        "reuse_port": reuse_port,
        "standby_lock": None if standby_lock is None else base_dir / standby_lock,
        "tls_cert": tls_cert,
        "tls_key": tls_key,
        "tenants": read_tenants(root, noun, normalise),
        "memory": read_memory(root.section("memory")),
        **read_registry(root.section("registry")),
        "limits": read_limits(root.section("limits"), noun),
        **read_program(root),
        "http": read_http(root.section("http"), host),
    }

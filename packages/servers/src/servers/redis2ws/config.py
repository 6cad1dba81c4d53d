"""redis2ws's configuration (JSON5), flags on top.

{
  redis_url: "redis://127.0.0.1:6379/0",
  // listen (port 8780), tls, tenants, memory, registry, limits, log_level: see servers.kit.config.
  // Tenants grant `channels`, globs in Redis syntax (* ? [...]), e.g. ["rsdev:quote:*"];
  // without tenants anyone may subscribe to anything. Limits: max_channels_per_message / _per_client.
}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lib_common import config
from lib_common.config import Section
from lib_common.redis_bus.format import DEFAULT_REDIS_URL
from servers.kit.config import GATEWAY_KEYS, GatewayConfig, Tenant, read_gateway
from servers.redis_options import read_redis_url

DEFAULT_PORT = 8780
_GLOB_SPECIALS = frozenset("*?[]\\")


def allows_pattern(tenant: Tenant, pattern: str) -> bool:
    """Whether every channel `pattern` can match is allowed to the tenant. Decided soundly, not
    fully: the pattern is the same as a grant, or a grant is `PREFIX*` (no other wildcard) and
    the pattern starts with that PREFIX; a pattern without wildcards is a channel."""
    if not _GLOB_SPECIALS & set(pattern):
        return tenant.allows(pattern)
    for grant in tenant.grants:
        if pattern == grant:
            return True
        head = grant[:-1]
        if grant.endswith("*") and not _GLOB_SPECIALS & set(head) and pattern.startswith(head):
            return True
    return False


@dataclass(frozen=True, slots=True)
class BridgeConfig(GatewayConfig):
    port: int = DEFAULT_PORT
    redis_url: str = DEFAULT_REDIS_URL


def from_section(root: Section, base_dir: Path) -> BridgeConfig:
    root.only([*GATEWAY_KEYS, "redis_url"])
    return BridgeConfig(
        **read_gateway(root, base_dir, default_port=DEFAULT_PORT, noun="channels"),
        redis_url=read_redis_url(root, "redis_url") or DEFAULT_REDIS_URL,
    )


def _build(root: Section) -> BridgeConfig:
    return from_section(root, root.base_dir)


# The file (None: none), then RSDEV__ variables (os.environ by default), then flags.
LOADER = config.Loader(_build)
load_config = LOADER.load
parse_config = LOADER.parse

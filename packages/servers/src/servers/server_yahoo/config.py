"""server_yahoo's configuration (JSON5), flags on top.

{
  listen: { host: "127.0.0.1", port: 8771 },
  http: { allowed_hosts: [], allowed_origins: [], figures_token: "…" },  // servers.kit.http_policy
  upstream_url: "wss://streamer.finance.yahoo.com/?version=2",
  linger_s: 30,              // keep an abandoned symbol subscribed upstream this long
  per_connection: 100,       // symbols per upstream connection (Yahoo's limit)
  inactivity_timeout_s: 60,  // reconnect the upstream after this long without a frame
  memory: { budget_bytes: 67108864, client_queue: 1024, stall_timeout_s: 10 },
  log_level: "info",
}

No tenants (everyone is the open tenant) and no TLS; clients get the kit's default limits.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib_common import config
from lib_common.alerts import PROGRAM_KEYS, read_program
from lib_common.config import Section
from lib_common.ingestors.yahoo.streamer import YAHOO_STREAMER_URL
from servers.kit.config import WS_URL, GatewayConfig, read_listen, read_memory, read_url
from servers.kit.http_policy import read_http

DEFAULT_PORT = 8771


@dataclass(frozen=True, slots=True)
class ProxyConfig(GatewayConfig):
    port: int = DEFAULT_PORT
    upstream_url: str = YAHOO_STREAMER_URL
    per_connection: int = 100
    inactivity_timeout_s: float = 60.0


def from_section(root: Section) -> ProxyConfig:
    root.only(
        [
            "listen",
            "http",
            "upstream_url",
            "linger_s",
            "per_connection",
            "inactivity_timeout_s",
            "memory",
            *PROGRAM_KEYS,
        ]
    )
    host, port = read_listen(root, DEFAULT_PORT)
    url = read_url(root, "upstream_url", WS_URL) or YAHOO_STREAMER_URL
    d = ProxyConfig()
    return ProxyConfig(
        host=host,
        port=port,
        upstream_url=url,
        linger_s=root.number("linger_s", d.linger_s, minimum=0.0),
        per_connection=root.integer("per_connection", d.per_connection, minimum=1, maximum=1000),
        inactivity_timeout_s=root.number("inactivity_timeout_s", d.inactivity_timeout_s, minimum=0.1),
        memory=read_memory(root.section("memory"), ["budget_bytes", "client_queue", "stall_timeout_s"]),
        **read_program(root),
        http=read_http(root.section("http"), host),
    )


# The file (None: none), then RSDEV__ variables (os.environ by default), then flags.
LOADER = config.Loader(from_section)
load_config = LOADER.load
parse_config = LOADER.parse

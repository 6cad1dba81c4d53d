"""server_dummy's configuration: JSON5 file, RSDEV__ variables, then flags (docs/config.md).

{
  listen: { host: "127.0.0.1", port: 8770 },
  http: { allowed_hosts: [], allowed_origins: [], figures_token: "…" },  // servers.kit.http_policy
  rate: 1,                          // pricing frames per second per subscribed symbol
  max_symbols: 100,                 // per connection; Yahoo silently serves only the first 100
  unknown_symbols: ["DELISTED"],    // answered like delisted tickers: no frames, chart 404
  seed: 0,                          // random-walk seed
  log_level: "info",
}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lib_common import config
from lib_common.alerts import PROGRAM_KEYS, AlertsConfig, read_program
from lib_common.config import Section
from servers.kit.config import read_listen
from servers.kit.http_policy import HttpPolicy, read_http

DEFAULT_PORT = 8770


@dataclass(frozen=True, slots=True)
class DummyConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    rate: float = 1.0
    max_symbols: int = 100
    unknown_symbols: frozenset[str] = frozenset()
    seed: int = 0
    log_level: str = "info"
    log_dir: Path | None = None
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    http: HttpPolicy = field(default_factory=HttpPolicy)


def from_section(root: Section) -> DummyConfig:
    root.only(["listen", "http", "rate", "max_symbols", "unknown_symbols", "seed", *PROGRAM_KEYS])
    host, port = read_listen(root, DEFAULT_PORT)
    return DummyConfig(
        host=host,
        port=port,
        rate=root.number("rate", 1.0, minimum=0.001, maximum=10_000),
        max_symbols=root.integer("max_symbols", 100, minimum=1),
        unknown_symbols=frozenset(s.strip().upper() for s in root.optional_str_list("unknown_symbols") or ()),
        seed=root.integer("seed", 0),
        **read_program(root),
        http=read_http(root.section("http"), host),
    )


# The file (None: none), then RSDEV__ variables (os.environ by default), then flags.
LOADER = config.Loader(from_section)
load_config = LOADER.load
parse_config = LOADER.parse

"""server_log's configuration: JSON5 file, RSDEV__ variables, then flags (docs/config.md).

{
  listen: { host: "127.0.0.1", port: 8775 },
  dir: "/var/lib/rsdev/quotes",   // DIR/quotes-YYYY-MM-DD.ndjson, .ndjson.gz once closed
  close_grace_s: 300,              // a NY day closes this long after its midnight
  redis_url: "redis://127.0.0.1:6379/0",
  // and the durable consumer's keys: prefix, group, consumer, batch_size, max_wait_ms,
  // claim_idle_s, retention_entries, retention_warn_ratio (see servers.durable.config)
  log_level: "info",
}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lib_common import config
from lib_common.config import Section
from servers.durable.config import ConsumerConfig, read_server

NAME = "server_log"
DEFAULT_PORT = 8775
DEFAULT_GRACE_S = 300.0
MAX_GRACE_S = 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class LogConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    dir: Path | None = None
    close_grace_s: float = DEFAULT_GRACE_S
    consumer: ConsumerConfig = field(default_factory=lambda: ConsumerConfig(NAME))
    log_level: str = "info"


def from_section(root: Section) -> LogConfig:
    common = read_server(root, NAME, DEFAULT_PORT, ["dir", "close_grace_s"])
    directory = root.optional_str("dir")
    grace_s = root.number("close_grace_s", DEFAULT_GRACE_S, minimum=0.0, maximum=MAX_GRACE_S)
    return LogConfig(**common, dir=Path(directory) if directory else None, close_grace_s=grace_s)


# The file (None: none), then RSDEV__ variables (os.environ by default), then flags.
LOADER = config.Loader(from_section)
load_config = LOADER.load
parse_config = LOADER.parse

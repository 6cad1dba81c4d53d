"""server_log's configuration: JSON5 file, RSDEV__ variables, then flags (docs/config.md).
Besides what every durable consumer's config has (listen, log_level, redis_url and the
consumer's keys: servers.durable.config):

  dir: "/var/lib/rsdev/quotes",   // DIR/quotes-YYYY-MM-DD.ndjson, .ndjson.gz once closed
  close_grace_s: 300,              // a NY day closes this long after its midnight
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lib_common.config import Section
from servers.durable.config import ServerConfig, read_server

NAME = "server_log"
DEFAULT_PORT = 8775
DEFAULT_GRACE_S = 300.0
MAX_GRACE_S = 7 * 86_400.0
SINK_KEYS = ("dir", "close_grace_s")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogConfig(ServerConfig):
    dir: Path | None = None
    close_grace_s: float = DEFAULT_GRACE_S


def from_section(root: Section) -> LogConfig:
    common = read_server(root, NAME, DEFAULT_PORT, SINK_KEYS)
    directory = root.optional_str("dir")
    grace_s = root.number("close_grace_s", DEFAULT_GRACE_S, minimum=0.0, maximum=MAX_GRACE_S)
    return LogConfig(**common, dir=Path(directory) if directory else None, close_grace_s=grace_s)

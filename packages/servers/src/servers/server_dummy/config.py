"""server_dummy's configuration: JSON5 file, then command-line flags on top.

{
  listen: { host: "127.0.0.1", port: 8770 },
  rate: 1,                          // pricing frames per second per subscribed symbol
  max_symbols: 100,                 // per connection; Yahoo silently serves only the first 100
  unknown_symbols: ["DELISTED"],    // answered like delisted tickers: no frames, chart 404
  seed: 0,                          // random-walk seed
  log_level: "info",
}
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from lib_common.config import Section, load_json5, parse_json5
from servers.serving import LOG_LEVELS

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

    def with_overrides(self, **overrides: object) -> DummyConfig:
        """Flags on top of the file: None means the flag was not given."""
        given = {k: v for k, v in overrides.items() if v is not None}
        return replace(self, **given)  # type: ignore[arg-type]


def load_config(path: str | Path | None) -> DummyConfig:
    if path is None:
        return DummyConfig()
    return from_section(load_json5(path))


def parse_config(text: str, source: str = "<config>") -> DummyConfig:
    return from_section(parse_json5(text, source))


def from_section(root: Section) -> DummyConfig:
    root.only(["listen", "rate", "max_symbols", "unknown_symbols", "seed", "log_level"])
    listen = root.section("listen")
    listen.only(["host", "port"])
    log_level = root.optional_str("log_level") or "info"
    if log_level not in LOG_LEVELS:
        raise root.error("log_level", f"expected one of {', '.join(LOG_LEVELS)}, found {log_level!r}")
    return DummyConfig(
        host=listen.optional_str("host") or "127.0.0.1",
        port=listen.integer("port", DEFAULT_PORT, minimum=0, maximum=65535),
        rate=root.number("rate", 1.0, minimum=0.001, maximum=10_000),
        max_symbols=root.integer("max_symbols", 100, minimum=1),
        unknown_symbols=frozenset(s.strip().upper() for s in root.optional_str_list("unknown_symbols") or ()),
        seed=root.integer("seed", 0),
        log_level=log_level,
    )

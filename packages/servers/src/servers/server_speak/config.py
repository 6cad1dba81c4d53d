"""server_speak's configuration: JSON5 file, RSDEV__ variables, then flags (docs/config.md).

{
  listen: { host: "127.0.0.1", port: 8774 },
  http: { allowed_hosts: [], allowed_origins: [], figures_token: "…" },  // servers.kit.http_policy
  sources: {
    restream_url: "ws://127.0.0.1:8765/ws",   // quotes from restream's /ws (optional)
    redis_url: "redis://127.0.0.1:6379/0",    // or from Redis pub/sub rsdev:quote:{SYMBOL} (optional)
    channel_prefix: "rsdev:quote:",
  },
  rules: [
    { kind: "price_cross", symbol: "AAPL", level: 200, direction: "up" },     // up | down | any
    //   band: 0.5 (re-arm once 0.5 away from the level; default 0.1 % of it), cooldown_s: 300
    //   (every rule: nothing from it within that many seconds of its last alert)
    { kind: "percent_move", symbol: "BTC-USD", percent: 2, window_s: 300 },
    { kind: "rating_change", symbol: "FEAR-GREED" },
    { kind: "monitor", events: ["outage_start", "outage_end"] },  // POST /speak with "event"
  ],
  queue: { min_gap_s: 2, dedup_s: 60, capacity: 32 },
  output_dir: "/var/lib/rsdev/speech",   // WAV files when there is no sound card
  prune: { max_age_s: 604800, max_bytes: 104857600 },  // WAV files: older ones, then over the size, go
  speech_timeout_s: 15,
  log_level: "info", log_dir: "/var/log/rsdev",          // log_dir optional
  alerts: { webhook_url: "…" },                           // lib_common.alerts
}
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lib_common import config
from lib_common.alerts import PROGRAM_KEYS, AlertsConfig, read_program
from lib_common.config import Section
from lib_common.redis_bus.format import DEFAULT_PREFIX, quote_channel
from servers.kit.config import WS_URL, read_listen, read_url
from servers.kit.http_policy import HttpPolicy, read_http
from servers.redis_options import read_redis_url
from servers.server_speak.prune import PruneConfig
from servers.server_speak.rules import Direction, PercentMove, PriceCross, Priority, RatingChange, Rule

DEFAULT_PORT = 8774
DEFAULT_OUTPUT_DIR = Path(tempfile.gettempdir()) / "rsdev-speech"
RULE_KINDS = ("price_cross", "percent_move", "rating_change", "monitor")


@dataclass(frozen=True, slots=True)
class SpeakConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    restream_url: str | None = None
    redis_url: str | None = None
    channel_prefix: str = quote_channel(DEFAULT_PREFIX, "")  # the bus's channels: PREFIX + "quote:" + SYMBOL
    rules: tuple[Rule, ...] = ()
    monitor_events: frozenset[str] | None = None  # None: every event POSTed is spoken
    min_gap_s: float = 2.0
    dedup_s: float = 60.0
    capacity: int = 32
    output_dir: Path = DEFAULT_OUTPUT_DIR
    prune: PruneConfig = field(default_factory=PruneConfig)
    speech_timeout_s: float = 15.0
    log_level: str = "info"
    log_dir: Path | None = None
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    http: HttpPolicy = field(default_factory=HttpPolicy)

    def rule_symbols(self) -> list[str]:
        return sorted({rule.symbol for rule in self.rules})


def _priority(section: Section) -> Priority:
    text = section.optional_str("priority") or "normal"
    try:
        return Priority.parse(text)
    except ValueError as exc:
        section.problem("priority", str(exc))
        return Priority.parse("normal")


def _cooldown(section: Section) -> float:
    return section.number("cooldown_s", 0.0, minimum=0.0)


def read_rule(section: Section) -> Rule | frozenset[str] | None:
    kind = section.required_str("kind")
    if kind == "price_cross":
        section.only(["kind", "symbol", "level", "direction", "priority", "band", "cooldown_s"])
        direction = section.optional_str("direction") or "any"
        try:
            parsed = Direction(direction)
        except ValueError:
            section.problem("direction", f"expected up, down or any, found {direction!r}")
            parsed = Direction("any")
        band = section.number("band", 0.0, minimum=0.0) if "band" in section else None
        return PriceCross(
            section.required_str("symbol").upper(),
            section.number("level", 0.0),
            parsed,
            _priority(section),
            band=band,
            cooldown_s=_cooldown(section),
        )
    if kind == "percent_move":
        section.only(["kind", "symbol", "percent", "window_s", "priority", "cooldown_s"])
        return PercentMove(
            section.required_str("symbol").upper(),
            section.number("percent", 1.0, minimum=0.0001),
            section.number("window_s", 300.0, minimum=0.001),
            _priority(section),
            cooldown_s=_cooldown(section),
        )
    if kind == "rating_change":
        section.only(["kind", "symbol", "priority", "cooldown_s"])
        return RatingChange(
            (section.optional_str("symbol") or "FEAR-GREED").upper(), _priority(section), cooldown_s=_cooldown(section)
        )
    if kind == "monitor":
        section.only(["kind", "events"])
        return frozenset(section.optional_str_list("events") or ["outage_start", "outage_end"])
    if kind:  # a missing kind is reported already
        section.problem("kind", f"expected one of {', '.join(RULE_KINDS)}, found {kind!r}")
    return None


def read_prune(section: Section) -> PruneConfig:
    section.only(["max_age_s", "max_bytes"])
    d = PruneConfig()
    return PruneConfig(
        max_age_s=section.number("max_age_s", d.max_age_s, minimum=1.0),
        max_bytes=section.integer("max_bytes", d.max_bytes, minimum=0),
    )


def from_section(root: Section) -> SpeakConfig:
    root.only(["listen", "http", "sources", "rules", "queue", "output_dir", "prune", "speech_timeout_s", *PROGRAM_KEYS])
    host, port = read_listen(root, DEFAULT_PORT)
    sources = root.section("sources")
    sources.only(["restream_url", "redis_url", "channel_prefix"])
    restream_url = read_url(sources, "restream_url", WS_URL)
    redis_url = read_redis_url(sources, "redis_url")
    rules: list[Rule] = []
    events: set[str] | None = None
    for section in root.sections("rules"):
        rule = read_rule(section)
        if isinstance(rule, frozenset):
            events = (events or set()) | rule
        elif rule is not None:
            rules.append(rule)
    queue = root.section("queue")
    queue.only(["min_gap_s", "dedup_s", "capacity"])
    d = SpeakConfig()
    return SpeakConfig(
        host=host,
        port=port,
        restream_url=restream_url,
        redis_url=redis_url,
        channel_prefix=sources.optional_str("channel_prefix") or d.channel_prefix,
        rules=tuple(rules),
        monitor_events=None if events is None else frozenset(events),
        min_gap_s=queue.number("min_gap_s", d.min_gap_s, minimum=0.0),
        dedup_s=queue.number("dedup_s", d.dedup_s, minimum=0.0),
        capacity=queue.integer("capacity", d.capacity, minimum=1),
        output_dir=Path(root.optional_str("output_dir") or d.output_dir),
        prune=read_prune(root.section("prune")),
        speech_timeout_s=root.number("speech_timeout_s", d.speech_timeout_s, minimum=0.1),
        **read_program(root),
        http=read_http(root.section("http"), host),
    )


# The file (None: none), then RSDEV__ variables (os.environ by default), then flags.
LOADER = config.Loader(from_section)
load_config = LOADER.load
parse_config = LOADER.parse

"""restream's configuration: JSON5 file, then command-line flags on top.

    {
      // listen, tls (WSS), tenants, memory, registry, limits, log_level: see servers.kit.config;
      // here tenants grant `symbols` and limits say max_symbols_per_message / _per_client.
      feed: { kind: "synthetic", symbols: ["AAPL"], rate: 2 },   // or:
      feed: { kind: "yahoo", upstream_url: "wss://streamer.finance.yahoo.com/?version=2",
              chart_url: "https://query2.finance.yahoo.com",  // default: derived from upstream_url
              fear_greed_url: "https://production.dataviz.cnn.io/index/fearandgreed/graphdata",
              per_connection: 100, inactivity_timeout_s: 30, failover_after_s: 10,
              poll_interval_s: 5, http_timeout_s: 10, extra_closed: ["2025-01-09"],
              hours: "nyse",     // per symbol: crypto 24/7, others NYSE (+ overnight); "always": all 24/7
              max_ahead_s: 300, max_behind_s: 2592000 },  // quotes dated further from our clock
                                                          // are dropped (counted in /metrics)  // or:
      feed: { kind: "redis", redis_url: "redis://127.0.0.1:6379/0", prefix: "rsdev:" },  // an edge node; or:
      feed: { kind: "replay", replay: {
                files: ["logs/"],  // server_log's day files or directories of them, or NDJSON files
                from: "2025-11-20", to: "2025-11-21",  // a directory's days, inclusive
                speed: 1,          // times the recorded pace; 0: as fast as the clients take it
                loop: false, max_gap_s: 60 } },  // recorded silences cut to this (default: kept)
      publish: { redis_url: "redis://127.0.0.1:6379/0", prefix: "rsdev:",   // the section turns it on
                 stream_maxlen: 1000000, buffer: 100000, symbols: ["AAPL"],  // see docs/redis.md
                 spool_dir: "spool", spool_max_bytes: 1073741824 },  // past the buffer: on disk
    }

Without tenants the gateway serves anyone who connects (the offline default).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import Path

from lib_common import config
from lib_common.config import Section
from lib_common.errors import ConfigError
from lib_common.ingestors.replay.sources import day_files
from lib_common.ingestors.yahoo.streamer import YAHOO_STREAMER_URL
from lib_common.redis_bus.format import DEFAULT_PREFIX, DEFAULT_REDIS_URL, DEFAULT_STREAM_MAXLEN
from lib_common.redis_bus.publisher import DEFAULT_BUFFER
from lib_common.redis_bus.spool import MIN_SEGMENT
from servers.kit.config import GATEWAY_KEYS, HTTP_URL, WS_URL, GatewayConfig, read_gateway, read_url
from servers.redis_options import read_redis_url

FEEDS = ("synthetic", "yahoo", "redis", "replay")
DEFAULT_SPOOL_BYTES = 1 << 30
HOURS = ("nyse", "always")


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """feed.replay (docs/replay.md): what to replay and how fast."""

    files: tuple[Path, ...] = ()  # files, or directories of day files (relative to the config file)
    first_day: date | None = None  # key `from`: a directory's days from this one (inclusive)
    last_day: date | None = None  # key `to`
    speed: float = 1.0  # times the recorded pace; 0: as fast as the clients take it
    loop: bool = False
    max_gap_s: float | None = None  # recorded silences longer than this are cut to it

    def paths(self) -> list[Path]:
        """The files a replay plays, in order (FileNotFoundError for a named path that is gone)."""
        return day_files(self.files, self.first_day, self.last_day)


REPLAY_KEYS = ("files", "from", "to", "speed", "loop", "max_gap_s")


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
    # "nyse": per symbol (lib_common.core.symbol_hours): crypto pairs around the clock, others by the
    # NYSE calendar (and the overnight session where Yahoo quotes one); quiet outside a symbol's
    # session is expected (no failover, slow polling). "always": every symbol trades around the
    # clock, so silence is a failure at any hour.
    hours: str = "nyse"
    # A quote dated further than this ahead of the local clock, or behind it, is dropped and
    # counted (lib_common.core.ordering.TimeWindow): one bad timestamp must not freeze a symbol.
    max_ahead_s: float = 300.0
    max_behind_s: float = 30 * 86_400.0
    # redis (an edge node: quotes an ingest node publishes)
    redis_url: str = DEFAULT_REDIS_URL
    prefix: str = DEFAULT_PREFIX
    replay: ReplayConfig = field(default_factory=ReplayConfig)


@dataclass(frozen=True, slots=True)
class PublishConfig:
    """Publishing every dispatched quote frame to Redis (an ingest node)."""

    enabled: bool = False
    redis_url: str = DEFAULT_REDIS_URL
    prefix: str = DEFAULT_PREFIX
    stream_maxlen: int = DEFAULT_STREAM_MAXLEN
    buffer: int = DEFAULT_BUFFER  # frames waiting for Redis; beyond it the oldest are dropped
    # Symbols the feed quotes (and so publishes) whether or not a local client wants them; the
    # default is the feed's own `symbols`. Edge nodes can only serve what an ingest publishes.
    symbols: tuple[str, ...] | None = None
    # Frames the buffer cannot hold go to segment files here (relative to the config file), up
    # to spool_max_bytes on disk, before any is dropped (lib_common.redis_bus.spool). None: no spool.
    spool_dir: Path | None = None
    spool_max_bytes: int = DEFAULT_SPOOL_BYTES


@dataclass(frozen=True, slots=True)
class RestreamConfig(GatewayConfig):
    port: int = 8765
    feed: FeedConfig = field(default_factory=FeedConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)

    @property
    def pinned_symbols(self) -> tuple[str, ...]:
        """What the feed quotes with no client asking: what a publishing node publishes."""
        if not self.publish.enabled:
            return ()
        return self.publish.symbols or self.feed.symbols or ()

    def checked(self) -> RestreamConfig:
        """The config, once combinations that cannot work are ruled out."""
        if (
            self.publish.enabled
            and self.feed.kind == "redis"
            and (self.publish.redis_url, self.publish.prefix) == (self.feed.redis_url, self.feed.prefix)
        ):
            raise ConfigError(
                "publish",
                "an edge node (feed redis) publishing to the Redis and prefix it reads would loop its own "
                "frames; give publish another prefix or redis_url",
            )
        return self


def _build(root: Section) -> RestreamConfig:
    return from_section(root, root.base_dir)


def from_section(root: Section, base_dir: Path) -> RestreamConfig:
    root.only([*GATEWAY_KEYS, "feed", "publish"])
    return RestreamConfig(
        **read_gateway(root, base_dir, default_port=8765, noun="symbols", normalise=str.upper),
        feed=_feed(root.section("feed"), base_dir),
        publish=_publish(root.section("publish"), base_dir, present="publish" in root),
    ).checked()


_FEED = FeedConfig()


def _date(section: Section, key: str) -> date | None:
    text = section.optional_str(key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        section.problem(key, f"expected a date YYYY-MM-DD, found {text!r}")
        return None


_REPLAY = ReplayConfig()


def _replay(section: Section, base_dir: Path, *, wanted: bool) -> ReplayConfig:
    section.only(REPLAY_KEYS)
    replay = ReplayConfig(
        files=tuple(base_dir / name for name in section.optional_str_list("files") or []),
        first_day=_date(section, "from"),
        last_day=_date(section, "to"),
        speed=section.number("speed", _REPLAY.speed, minimum=0.0, maximum=1_000_000),
        loop=section.flag("loop", _REPLAY.loop),
        max_gap_s=section.number("max_gap_s", 1.0, minimum=0.001) if "max_gap_s" in section else None,
    )
    if wanted:
        try:
            if not replay.files:
                section.problem("files", "feed replay needs files: give --replay-file FILE or feed.replay.files")
            elif not replay.paths():
                section.problem("files", "no day files (quotes-YYYY-MM-DD.ndjson[.gz]) in the directories and range")
        except OSError as exc:
            section.problem("files", str(exc))
    return replay


def _feed(section: Section, base_dir: Path) -> FeedConfig:
    section.only([f.name for f in fields(FeedConfig)])
    kind = section.optional_str("kind") or _FEED.kind
    if kind not in FEEDS:
        section.problem("kind", f"unknown feed {kind!r}; expected one of {', '.join(FEEDS)}")
        kind = _FEED.kind
    symbols = section.optional_str_list("symbols")
    upstream_url = read_url(section, "upstream_url", WS_URL) or _FEED.upstream_url
    chart_url = read_url(section, "chart_url", HTTP_URL)
    fear_greed_url = read_url(section, "fear_greed_url", HTTP_URL)
    hours = section.optional_str("hours") or _FEED.hours
    if hours not in HOURS:
        section.problem("hours", f"expected one of {', '.join(HOURS)}, found {hours!r}")
        hours = _FEED.hours
    extra_closed: list[date] = []
    for i, text in enumerate(section.optional_str_list("extra_closed") or []):
        try:
            extra_closed.append(date.fromisoformat(text))
        except ValueError:
            section.problem(f"extra_closed[{i}]", f"expected a date YYYY-MM-DD, found {text!r}")
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
        max_ahead_s=section.number("max_ahead_s", _FEED.max_ahead_s, minimum=1.0),
        max_behind_s=section.number("max_behind_s", _FEED.max_behind_s, minimum=1.0),
        redis_url=read_redis_url(section, "redis_url") or _FEED.redis_url,
        prefix=section.optional_str("prefix") or _FEED.prefix,
        replay=_replay(section.section("replay"), base_dir, wanted=kind == "replay"),
    )


_PUBLISH = PublishConfig()


def _publish(section: Section, base_dir: Path, *, present: bool) -> PublishConfig:
    section.only([f.name for f in fields(PublishConfig)])
    symbols = section.optional_str_list("symbols")
    spool_dir = section.optional_str("spool_dir")
    return PublishConfig(
        enabled=section.flag("enabled", present),
        redis_url=read_redis_url(section, "redis_url") or _PUBLISH.redis_url,
        prefix=section.optional_str("prefix") or _PUBLISH.prefix,
        stream_maxlen=section.integer("stream_maxlen", _PUBLISH.stream_maxlen, minimum=1),
        buffer=section.integer("buffer", _PUBLISH.buffer, minimum=1),
        symbols=tuple(s.upper() for s in symbols) if symbols else None,
        spool_dir=base_dir / spool_dir if spool_dir else None,
        spool_max_bytes=section.integer("spool_max_bytes", _PUBLISH.spool_max_bytes, minimum=MIN_SEGMENT),
    )


# The file (None: none), then RSDEV__ variables (os.environ by default), then flags.
LOADER = config.Loader(_build)
load_config = LOADER.load
parse_config = LOADER.parse

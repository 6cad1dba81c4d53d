"""Bus URLs: one Redis (`redis://`, `rediss://`, `unix://`) or a Redis Cluster given by any of
its nodes (`redis+cluster://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...][?OPTIONS]`, TLS:
`rediss+cluster://`). Plain code: parsing, checking and the per-node URLs the cluster client
opens; every `--redis-url` and `redis_url` is checked here at config load.

A cluster URL's options (the query), which every component of one deployment must be given
alike (docs/redis.md, "Redis Cluster"):
- `stream_shards=N` (1..1024, default 1): the durable stream is N hash-tagged keys
  `{PREFIXquotes:I}` (`format.stream_keys`), a symbol always on the same one.
- `wait_replicas=N` (default 0): the publisher's batch is done only once N replicas of each
  master it wrote to have it (WAIT), so a master's SIGKILL cannot lose what was confirmed.
- `wait_timeout_ms=MS` (default 1000): how long that WAIT may take before the batch is resent.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

REDIS_URL_SCHEMES = ("redis://", "rediss://", "unix://")
CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
MAX_STREAM_SHARDS = 1024
_OPTIONS = ("stream_shards", "wait_replicas", "wait_timeout_ms")

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class ClusterUrl:
    seeds: tuple[Address, ...]
    tls: bool = False
    username: str | None = None
    password: str | None = None
    stream_shards: int = 1
    wait_replicas: int = 0
    wait_timeout_ms: int = 1000

    def node_url(self, address: Address) -> str:
        """The plain URL of one node (credentials kept; a cluster has only database 0)."""
        host, port = address
        auth = ""
        if self.password is not None:
            user = quote(self.username or "", safe="")
            auth = f"{user}:{quote(self.password, safe='')}@"
        host_part = f"[{host}]" if ":" in host else host
        return f"{'rediss' if self.tls else 'redis'}://{auth}{host_part}:{port}/0"

    def redacted(self) -> str:
        scheme = "rediss+cluster" if self.tls else "redis+cluster"
        return f"{scheme}://" + ",".join(f"{h}:{p}" for h, p in self.seeds)


def is_cluster_url(url: str) -> bool:
    return url.startswith(CLUSTER_SCHEMES)


def _address(text: str) -> Address:
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        port_text = rest[1:] if sep and rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"expected HOST:PORT, found {text!r}")
    return host, int(port_text)


def _option(options: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    values = options.get(name)
    if not values:
        return default
    text = values[-1]
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(f"{name}: expected an integer from {low} to {high}, found {text!r}")
    return int(text)


def parse_cluster_url(url: str) -> ClusterUrl:
    """The cluster a `redis+cluster://` or `rediss+cluster://` URL names; ValueError saying
    what is wrong otherwise."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("redis+cluster", "rediss+cluster"):
        raise ValueError(f"expected a redis+cluster:// or rediss+cluster:// URL, found {url!r}")
    netloc, _, query = rest.partition("?")
    netloc, _, path = netloc.partition("/")
    if path not in ("", "0"):
        raise ValueError(f"a Redis Cluster has only database 0, found /{path}")
    userinfo, at, hosts = netloc.rpartition("@")
    if not hosts:
        raise ValueError("expected at least one HOST:PORT after the scheme")
    seeds = tuple(_address(h) for h in hosts.split(","))
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username, password = (unquote(user) or None, unquote(secret)) if colon else (None, unquote(user))
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option {unknown[0]!r} (known: {', '.join(_OPTIONS)})")
    return ClusterUrl(
        seeds=seeds,
        tls=scheme == "rediss+cluster",
        username=username,
        password=password,
        stream_shards=_option(options, "stream_shards", 1, 1, MAX_STREAM_SHARDS),
        wait_replicas=_option(options, "wait_replicas", 0, 0, 16),
        wait_timeout_ms=_option(options, "wait_timeout_ms", 1000, 1, 60_000),
    )


def redis_url_problem(url: str) -> str | None:
    """What is wrong with a bus URL, or None when the bus's connections take it."""
    if is_cluster_url(url):
        try:
            parse_cluster_url(url)
        except ValueError as exc:
            return f"bad Redis Cluster URL: {exc}"
        return None
    if url.startswith(REDIS_URL_SCHEMES):
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018  (raises on a port that is not one)
        except ValueError as exc:  # e.g. an unclosed '[' or a port past 65535
            return f"bad Redis URL {url[:200]!r}: {exc}"
        return None
    return f"expected a redis://, rediss://, unix://, redis+cluster:// or rediss+cluster:// URL, found {url!r}"


def stream_shards(url: str) -> int:
    """How many keys the durable stream is spread over for this URL (1 for one Redis)."""
    return parse_cluster_url(url).stream_shards if is_cluster_url(url) else 1

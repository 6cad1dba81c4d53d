"""The Redis bus: the only Redis code in the tree, and the only place that knows the channel and
stream names and the quote encoding.

- `format`: the contract (docs/redis.md): channel `{prefix}quote:{SYMBOL}`, stream
  `{prefix}quotes` with fields `symbol` and `frame`, and `decode_quote_frame`, the one
  validated decoder every reader uses (the edge feed, server_sql, server_log, server_speak).
- `resp`: RESP2, sans-I/O: `command()` encodes, hiredis parses.
- `connection`: raw connections (URL, TLS, AUTH, SELECT) and `RespConnection` for
  request/reply commands; the boundary where Redis errors become the bus's own
  (`lib_common.errors`: BusUnavailable, BusReplyError with the reply's code).
- `links`: the hot path's adapters, `RespPublishLink` (PUBLISH + XADD pipelines) and
  `RespPubSubLink` (pub/sub pushes).
- `publisher`, `subscriber`: policy over those link interfaces (buffering and dropping, what
  to (re)subscribe), reconnecting through `reconnecting.Reconnecting` on the shared
  `lib_common.core.reconnect.Reconnect` policy.
- `stream`: the stream's entries and `StreamGroup`, the consumer-group commands (XGROUP,
  XAUTOCLAIM, XREADGROUP, XACK, XINFO) the durable consumers use.
- Redis Cluster (docs/redis.md): `urls` (`redis+cluster://` URLs and their options),
  `topology` (key slots, CLUSTER SHARDS / SLOTS), `cluster` (discovery, `ClusterConnection`
  routing by key and following MOVED / ASK), `cluster_links` (SPUBLISH + XADD per master,
  sharded pub/sub).
"""

from lib_common.redis_bus.format import (
    DEFAULT_PREFIX,
    DEFAULT_REDIS_URL,
    DEFAULT_STREAM_MAXLEN,
    QuoteFrame,
    decode_quote,
    decode_quote_frame,
    quote_channel,
    stream_key,
)
from lib_common.redis_bus.publisher import Publisher, PublishLink
from lib_common.redis_bus.subscriber import BusMessage, PubSubLink, Subscriber, SubscriberState

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_REDIS_URL",
    "DEFAULT_STREAM_MAXLEN",
    "BusMessage",
    "PubSubLink",
    "PublishLink",
    "Publisher",
    "QuoteFrame",
    "Subscriber",
    "SubscriberState",
    "decode_quote",
    "decode_quote_frame",
    "quote_channel",
    "stream_key",
]

"""Quotes over Redis: the publisher on ingest nodes, the subscriber under edge nodes and redis2ws.

Policy (buffering, dropping, backoff, what to (re)subscribe) is plain code driven through small
link interfaces (`PublishLink`, `PubSubLink`); `links` holds the redis-py adapters, where
redis-py's exceptions become `lib_common.errors.BusError`s.
"""

from lib_common.redis_bus.format import (
    DEFAULT_PREFIX,
    DEFAULT_REDIS_URL,
    DEFAULT_STREAM_MAXLEN,
    decode_quote,
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
    "Subscriber",
    "SubscriberState",
    "decode_quote",
    "quote_channel",
    "stream_key",
]

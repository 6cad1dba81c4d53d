"""Errors of the durable consumers, translated at the boundary from the bus's (lib_common BusError) and psycopg's.

RsdevError
└── ConsumerError
    ├── SourceUnavailable    Redis cannot be reached or is loading: reconnect with backoff
    └── SinkUnavailable      the sink (PostgreSQL, the log directory) failed: reopen with backoff
"""

from __future__ import annotations

from lib_common.errors import RsdevError


class ConsumerError(RsdevError):
    """Base of the errors a durable consumer recovers from by reconnecting."""


class SourceUnavailable(ConsumerError):
    """The Redis side failed; nothing read since the last ack is acked."""


class SinkUnavailable(ConsumerError):
    """The sink failed; the batch it was given is not durable and stays pending."""

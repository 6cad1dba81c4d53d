"""Exception tree of the servers distribution.

Every error a server raises on purpose is an RsdevError; the shared ones are lib_common.errors',
the durable consumers' are servers.durable.errors', the rest are here.
Errors of the libraries underneath (redis, psycopg, websockets) are translated where they are
met, into these.

RsdevError                      lib_common.errors
├── ConfigError                 a config file or flag is wrong: file:line:col or JSON path, and why
│   └── ConfigErrors            several of them at once           (the server exits 2)
├── SecretError                 a secret in the config does not decrypt (fails closed)
├── ProtocolError               a client's message the gateway cannot act on: an error frame,
│                               the connection stays (restream, redis2ws)
├── BusError                    Redis, the message bus between nodes
│   ├── BusUnavailable          cannot reach Redis, or the connection dropped (retry with backoff)
│   └── BusMessageError         a message on the bus is not in the shared format (count, skip)
├── ConsumerError               servers.durable.errors: what a durable consumer rides out
│   ├── SourceUnavailable       Redis cannot be reached or is loading: reconnect with backoff
│   └── SinkUnavailable         PostgreSQL or the log directory failed: reopen with backoff
└── ServingError                a server run in a way it cannot serve (a deployment mistake)
    └── MissingEgress           a fan-out gateway under uvicorn without GatewayProtocol

Input that is only counted and skipped (server_yahoo's bad requests, server_dummy's malformed
client frames and fault requests, durable's malformed stream entries) is a ValueError where it
is parsed, caught next to it: it never leaves its module.
"""

from __future__ import annotations

from lib_common.errors import RsdevError


class ServingError(RsdevError, RuntimeError):
    """A server was started in a way it cannot serve."""


class MissingEgress(ServingError):
    """A fan-out gateway's WebSocket arrived without the `rsdev.egress` scope extension: it runs
    under uvicorn without `ws=GatewayProtocol` (servers.kit.serving.serve_gateway sets it)."""

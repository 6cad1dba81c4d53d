"""rsdev servers: the distribution of every rsdev server process, one package each.

- restream: the WebSocket fan-out gateway (feeds: synthetic, yahoo, redis).
- redis2ws: Redis pub/sub channels and patterns bridged to WebSocket clients.
- server_yahoo: the legacy proxy speaking Yahoo's streamer protocol.
- server_sql, server_log: durable consumers of the quotes stream (on `durable`, their shared part).
- server_speak: spoken alerts. server_dummy: a local stand-in for Yahoo and CNN.
- kit: what the servers are made of (config pieces, process base, app, session loop, uvicorn).
- errors: the distribution's exception tree. redis_options: the Redis URL flag and key.

A server imports from kit, lib_common and itself, never from another server.
"""

__version__ = "0.1.0"

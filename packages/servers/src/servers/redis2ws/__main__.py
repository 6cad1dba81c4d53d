"""Bridge Redis pub/sub to WebSocket clients: they subscribe to channels and patterns (allowed per
tenant) on ws://HOST:PORT/ws; one Redis subscription per channel whatever the number of clients.
Flags override the config file.
"""

from __future__ import annotations

import sys

from servers.kit.command import ServerCommand
from servers.redis2ws.config import load_config
from servers.redis_options import redis_url_option

COMMAND = ServerCommand(
    "redis2ws",
    __doc__ or "",
    config_help="listen, tls, redis_url, tenants, memory, registry, limits",
    load=load_config,
    options=(redis_url_option("redis_url", "the Redis to bridge"),),
)

if __name__ == "__main__":
    sys.exit(COMMAND.main())

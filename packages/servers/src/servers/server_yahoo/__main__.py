"""Legacy proxy: clients speak Yahoo's streamer protocol to it (ws://HOST:PORT/); it keeps one
upstream subscription per symbol, relays upstream frames unchanged, and survives upstream drops.
"""

from __future__ import annotations

import sys

from lib_common.flags import Option
from lib_common.ingestors.yahoo.streamer import YAHOO_STREAMER_URL
from servers.kit.command import ServerCommand, ws_url
from servers.server_yahoo.config import load_config

COMMAND = ServerCommand(
    "server_yahoo",
    __doc__ or "",
    config_help="listen, upstream_url, linger_s, per_connection, memory",
    load=load_config,
    options=(
        Option(
            "--upstream-url", "upstream_url", f"the streamer to connect to (default {YAHOO_STREAMER_URL})", type=ws_url
        ),
    ),
)

if __name__ == "__main__":
    sys.exit(COMMAND.main())

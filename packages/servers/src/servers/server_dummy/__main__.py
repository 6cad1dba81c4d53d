"""A local stand-in for Yahoo's streamer (WebSocket on /, also /?version=2), Yahoo's chart API
(/v8/finance/chart/SYMBOL) and CNN's Fear & Greed (/index/fearandgreed/graphdata), with random-
walk prices. Fault injection: POST /fault {"mode":
"stall"|"close"|"abort"|"malformed"|"http_error"|"http_429"|"none"}; GET /fault, /status and
/health report. Flags override the config file.
"""

from __future__ import annotations

import sys
from typing import Any

from lib_common.flags import Option, positive_float
from servers.kit.command import ServerCommand
from servers.server_dummy.config import DummyConfig, load_config


def _serve_options(_: DummyConfig) -> dict[str, Any]:
    from servers.server_dummy.transport import DummyProtocol  # the app's imports, which --help does without

    return {"ws": DummyProtocol}


COMMAND = ServerCommand(
    "server_dummy",
    __doc__ or "",
    config_help="listen {host, port}, rate, max_symbols, unknown_symbols, seed, log_level",
    load=load_config,
    options=(
        Option("--rate", "rate", "pricing frames per second per subscribed symbol (default 1)", type=positive_float),
    ),
    serve_options=_serve_options,
)

if __name__ == "__main__":
    sys.exit(COMMAND.main())

"""Spoken alerts: rules (price crosses, % moves, Fear & Greed rating changes, monitor events) on
quotes from restream's /ws or Redis pub/sub, and POST /speak {"text", "priority"} from other
tools. Played on a sound card; without one, written to WAV files that are logged.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lib_common.flags import Option
from servers.kit.command import ServerCommand
from servers.server_speak.config import load_config

COMMAND = ServerCommand(
    "server_speak",
    __doc__ or "",
    config_help="listen, sources, rules, queue, output_dir, speech_timeout_s",
    load=load_config,
    options=(Option("--output-dir", "output_dir", "where WAV files go when there is no sound card", type=Path),),
    serve_options=lambda _: {"ws": "none"},
    service="server_speak",
)

if __name__ == "__main__":
    sys.exit(COMMAND.main())

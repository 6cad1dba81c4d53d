"""server_speak command line: `server_speak [--config FILE.json5] [--host H] [--port 8774] [--log-level L]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from lib_common.flags import config_flags
from servers.kit.serving import COMMON_FLAGS, run_server, server_parser
from servers.server_speak.config import DEFAULT_PORT, SpeakConfig, load_config

# The flags and the config paths they set.
FLAGS = {**COMMON_FLAGS, "--output-dir": "output_dir"}


def build_parser() -> argparse.ArgumentParser:
    parser = server_parser(
        "server_speak",
        "Spoken alerts: rules (price crosses, % moves, Fear & Greed rating changes, monitor events) on "
        'quotes from restream\'s /ws or Redis pub/sub, and POST /speak {"text", "priority"} from other tools. '
        "Played on a sound card; without one, written to WAV files that are logged.",
        config_help="listen, sources, rules, queue, output_dir, speech_timeout_s",
        default_port=DEFAULT_PORT,
    )
    parser.add_argument("--output-dir", type=Path, help="where WAV files go when there is no sound card")
    return parser


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> SpeakConfig:
    """The config file, the environment (os.environ by default), then the flags."""
    return load_config(args.config, flags=config_flags(args, FLAGS), env=env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_server(
        "server_speak",
        lambda: resolve_config(args),
        "servers.server_speak.app",
        options=lambda _: {"ws": "none"},
        service="server_speak",
    )


if __name__ == "__main__":
    sys.exit(main())

"""server_speak command line: `server_speak [--config FILE.json5] [--host H] [--port 8774] [--log-level L]`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path

from lib_common.flags import config_flags, load_or_exit
from servers.kit.serving import add_common_flags, configure_logging, serve
from servers.server_speak.config import DEFAULT_PORT, SpeakConfig, load_config

# The flags and the config paths they set.
FLAGS = {"--host": "listen.host", "--port": "listen.port", "--log-level": "log_level", "--output-dir": "output_dir"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="server_speak",
        description="Spoken alerts: rules (price crosses, % moves, Fear & Greed rating changes, monitor events) on "
        'quotes from restream\'s /ws or Redis pub/sub, and POST /speak {"text", "priority"} from other tools. '
        "Played on a sound card; without one, written to WAV files that are logged.",
    )
    add_common_flags(
        parser, config_help="listen, sources, rules, queue, output_dir, speech_timeout_s", default_port=DEFAULT_PORT
    )
    parser.add_argument("--output-dir", type=Path, help="where WAV files go when there is no sound card")
    parser.add_argument("--log-dir", type=Path, help="also write JSON-line logs here, rotated at New York midnight")
    return parser


def resolve_config(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> SpeakConfig:
    """The config file, the environment (os.environ by default), then the flags."""
    return load_config(args.config, flags=config_flags(args, FLAGS), env=env)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_or_exit("server_speak", lambda: resolve_config(args))
    configure_logging(config.log_level, service="server_speak", log_dir=args.log_dir)
    from servers.server_speak.app import create_app  # after --help and config errors

    serve(create_app(config), host=config.host, port=config.port, ws="none", log_level=config.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A server's command line, declared once.

Each server's `__main__` is a `ServerCommand`: its name and description, its own options (each a
flag and the config path it sets, lib_common.flags.Option) beside the ones every server has
(`--config`, `--host`, `--port`, and PROGRAM_OPTIONS: `--log-level`, `--log-dir`, `--speak-url`,
`--webhook-url`), how its config loads (docs/config.md: the file, then `RSDEV__SECTION__KEY`
variables, then the flags) and which app it serves. The parser and the config's flags are both
made from the one declaration, so a flag cannot be parsed and then forgotten, or mapped and never
offered.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from lib_common.alerts import PROGRAM_OPTIONS
from lib_common.config import Flag
from lib_common.flags import Option, add_options, option_flags
from servers.kit.config import WS_URL, url_problem
from servers.kit.serving import Served, gateway_options, run_server

S = TypeVar("S", bound=Served)
S_co = TypeVar("S_co", covariant=True)


def ws_url(text: str) -> str:
    """A flag that must be a WebSocket URL (an upstream streamer)."""
    problem = url_problem(text, WS_URL)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def listen_options(default_port: int) -> tuple[Option, ...]:
    """--host and --port, then PROGRAM_OPTIONS: the options every server has."""
    return (
        Option("--host", "listen.host", "address to listen on (default 127.0.0.1)"),
        Option("--port", "listen.port", f"port to listen on (default {default_port}; 0 picks a free one)", type=int),
        *PROGRAM_OPTIONS,
    )


def command_parser(
    prog: str, description: str, *, config_help: str, options: Sequence[Option]
) -> argparse.ArgumentParser:
    """`--config` and `options`."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--config", type=Path, help=f"JSON5 config file ({config_help})")
    add_options(parser, options)
    return parser


class LoadConfig(Protocol[S_co]):
    """A server's `load_config`: the file (or none), the flags and the environment to one config."""

    def __call__(self, path: Path | None, *, flags: Mapping[str, Flag], env: Mapping[str, str] | None) -> S_co: ...


@dataclass(frozen=True, slots=True)
class ServerCommand(Generic[S]):
    """One server's command line and main: parse, load the config (or exit 2), serve
    `app_module`'s create_app(config) with `serve_options(config)` (a fan-out gateway's by
    default) until SIGTERM/SIGINT."""

    name: str
    description: str
    config_help: str
    load: LoadConfig[S]
    options: tuple[Option, ...] = ()
    serve_options: Callable[[Any], dict[str, Any]] = gateway_options  # of the config S
    service: str | None = None  # the service name in logs and alerts (default: the program's)

    @property
    def app_module(self) -> str:
        """Where its `create_app(config)` is: servers.NAME.app."""
        return f"servers.{self.name}.app"

    @property
    def default_port(self) -> int:
        """The port of the config with no file, variables or flags: what --help says is the default."""
        return self.load(None, flags={}, env={}).port

    @property
    def all_options(self) -> tuple[Option, ...]:
        return (*listen_options(self.default_port), *self.options)

    def build_parser(self) -> argparse.ArgumentParser:
        return command_parser(self.name, self.description, config_help=self.config_help, options=self.all_options)

    def resolve(self, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> S:
        """The config file, the environment (os.environ by default), then the flags."""
        return self.load(args.config, flags=option_flags(args, self.all_options), env=env)

    def main(self, argv: list[str] | None = None) -> int:
        args = self.build_parser().parse_args(argv)
        return run_server(
            self.name, lambda: self.resolve(args), self.app_module, options=self.serve_options, service=self.service
        )

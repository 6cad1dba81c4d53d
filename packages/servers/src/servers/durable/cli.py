"""Command-line pieces the durable consumers share: the parser with the common and consumer
flags, reading the config (file, environment, then the common, consumer and sink flags), the
missing-setting error, and serving the consumer's app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, NoReturn, TypeVar

from lib_common.config import Section, read_config
from lib_common.flags import Option, load_or_exit, option_flags
from servers.durable.config import CONSUMER_OPTIONS, KEYS, ServerConfig
from servers.durable.consumer import DurableConsumer, Sink
from servers.kit.command import command_parser, listen_options
from servers.kit.egress import GatewayProtocol
from servers.kit.serving import configure_logging, serve

C = TypeVar("C", bound=ServerConfig)


@dataclass(frozen=True, slots=True)
class ConsumerCommand(Generic[C]):
    """A consumer server's command line: the options every server and every consumer has and
    its sink's (`sink_options`; `sink_keys` its config keys, for --config's help), reading its
    config, then running its consumer into the sink `open_sink` makes of the config (exiting
    2 on a missing setting)."""

    name: str
    description: str
    default_port: int
    sink_keys: Iterable[str]
    sink_options: tuple[Option, ...]
    build: Callable[[Section], C]
    open_sink: Callable[[C], Sink]

    @property
    def all_options(self) -> tuple[Option, ...]:
        return (*listen_options(self.default_port), *CONSUMER_OPTIONS, *self.sink_options)

    def build_parser(self) -> argparse.ArgumentParser:
        config_help = ", ".join(["listen", *self.sink_keys, *KEYS, "log_level"])
        return command_parser(self.name, self.description, config_help=config_help, options=self.all_options)

    def resolve(self, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> C:
        """The config file, the environment (os.environ by default), then the common, consumer
        and sink flags; ConfigErrors lists every problem."""
        return read_config(args.config, self.build, flags=option_flags(args, self.all_options), env=env)

    def main(self, argv: list[str] | None = None) -> int:
        """The config (or exit 2), then the consumer's app under uvicorn until SIGTERM/SIGINT."""
        args = self.build_parser().parse_args(argv)
        config = load_or_exit(self.name, lambda: self.resolve(args))
        if not config.consumer.redis_url:
            usage_error(self.name, "no Redis: give --redis-url URL or redis_url in the config")
        sink = self.open_sink(config)
        route = configure_logging(config, service=self.name)
        from servers.durable.app import create_app  # after --help and config errors

        try:
            app = create_app(DurableConsumer(config.consumer, sink, name=self.name))
            serve(app, host=config.host, port=config.port, ws=GatewayProtocol, log_level=config.log_level)
        finally:
            route.close()
        return 0


def usage_error(prog: str, message: str) -> NoReturn:
    print(f"{prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def bounded(kind: type[int] | type[float], low: float, high: float) -> type[int] | type[float]:
    """An argparse `type` that takes numbers from `low` to `high`."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low:g} to {high:g}, found {text}")
        return value

    return parse  # type: ignore[return-value]

"""Command-line pieces the durable consumers share: reading the config (file, environment, then
the common, consumer and sink flags), the missing-setting error, and serving the consumer's app."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import Protocol, TypeVar

from lib_common.config import Section, read_config
from lib_common.flags import config_flags
from servers.durable.config import CONSUMER_FLAGS, ConsumerConfig
from servers.durable.consumer import DurableConsumer, Sink
from servers.kit.egress import GatewayProtocol
from servers.kit.serving import configure_logging, serve

# The flags every server has and the config paths they set.
SERVER_FLAGS = {"--host": "listen.host", "--port": "listen.port", "--log-level": "log_level"}


class ServerConfig(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def log_level(self) -> str: ...
    @property
    def consumer(self) -> ConsumerConfig: ...


C = TypeVar("C", bound=ServerConfig)


def read(
    args: argparse.Namespace,
    build: Callable[[Section], C],
    sink_flags: Mapping[str, str],
    env: Mapping[str, str] | None = None,
) -> C:
    """The config file, the environment (os.environ by default), then the common, consumer and
    sink flags (`{"--dsn": "dsn"}`); ConfigErrors lists every problem."""
    flags = config_flags(args, {**SERVER_FLAGS, **CONSUMER_FLAGS, **sink_flags})
    return read_config(args.config, build, flags=flags, env=env)


def require_redis(prog: str, config: ServerConfig) -> None:
    if not config.consumer.redis_url:
        usage_error(prog, "no Redis: give --redis-url URL or redis_url in the config")


def usage_error(prog: str, message: str) -> None:
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


def run_consumer(name: str, config: ServerConfig, sink: Sink) -> None:
    configure_logging(config.log_level)
    from servers.durable.app import create_app  # after --help and config errors

    app = create_app(DurableConsumer(config.consumer, sink, name=name))
    serve(app, host=config.host, port=config.port, ws=GatewayProtocol, log_level=config.log_level)

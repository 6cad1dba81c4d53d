"""Command-line pieces the durable consumers share: flags on top of the config (the consumer's
included), the missing-setting error, and serving the consumer's HTTP app."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import Protocol, TypeVar

from servers.durable.config import ConsumerConfig, consumer_flags
from servers.durable.consumer import DurableConsumer, Sink
from servers.egress import GatewayProtocol
from servers.serving import configure_logging, overridden, serve


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


def resolve(prog: str, config: C, args: argparse.Namespace, **sink_flags: object) -> C:
    """`config` with the common, consumer and sink flags on top; exit 2 when no Redis is named."""
    config = overridden(config, host=args.host, port=args.port, log_level=args.log_level, **sink_flags)
    consumer = overridden(config.consumer, **consumer_flags(args))
    if not consumer.redis_url:
        usage_error(prog, "no Redis: give --redis-url URL or redis_url in the config")
    return replace(config, consumer=consumer)  # type: ignore[type-var]


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

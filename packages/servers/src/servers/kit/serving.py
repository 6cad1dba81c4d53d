"""Running an rsdev server: logging, loading a config or exiting 2, and uvicorn to a clean exit, with the
direct-write WebSocket protocol for a fan-out gateway, every connection through a
ConnectionGate (servers.kit.ingress), and a warning when a server without authentication
listens beyond loopback."""

from __future__ import annotations

import asyncio
import functools
import gc
import importlib
import ipaddress
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import uvicorn

from lib_common.alerts import AlertRoute, AlertsConfig, setup_program
from lib_common.core.fanout import RESTART
from lib_common.flags import load_or_exit
from servers.kit.config import ClientLimits
from servers.kit.connections import ConnectionGate, fd_room
from servers.kit.egress import GatewayProtocol
from servers.kit.ingress import GatedH11Protocol, on_loop_exception
from servers.kit.standby import POLL_S, HandoverWait, StandbyLock, stand_by, successor_serving

if TYPE_CHECKING:
    from servers.kit.config import GatewayConfig

log = logging.getLogger(__name__)

MAX_WS_MESSAGE = 1 << 20  # larger messages close with 1009; up to it they get an error frame

T = TypeVar("T")


class CleanExitServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process dies by the
    signal; a shutdown that completed is a success, and exits 0 (what supervisord and scripts
    expect of a clean stop). Accept failures for lack of descriptors are logged through `gate`
    (one line, then a summary now and then) instead of asyncio's traceback for each.

    SIGHUP is a planned restart's handover: the same graceful shutdown, but clients are closed
    with 1012 (service restart: a successor is serving, come back at once) instead of 1001.
    With a standby lock (servers.kit.standby) the process first lets go of the lock and waits,
    serving, until its standby listens; with none taking over it takes the lock back."""

    def __init__(
        self, config: uvicorn.Config, gate: ConnectionGate, service: object = None, standby: StandbyLock | None = None
    ) -> None:
        super().__init__(config)
        self.gate = gate
        self.service = service
        self.standby = standby
        self._handing_over: asyncio.Task[None] | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)  # returns only once listening: on a failure it exits
        # What exists now (modules, the app, its config: ~50,000 objects) lives as long as the
        # process. Frozen, the collector's full passes leave it out: each was a 13-19 ms pause
        # of the event loop, every client's frames waiting behind it (docs/fanout.md).
        gc.freeze()
        if self.standby is not None and self.started:
            self.standby.announce_serving()

    async def serve(self, sockets: Sequence[Any] | None = None) -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(functools.partial(on_loop_exception, self.gate))
        hup = getattr(signal, "SIGHUP", None)  # POSIX only: no handover on Windows
        if hup is not None:
            loop.add_signal_handler(hup, self.hand_over)
        try:
            await super().serve(sockets)  # type: ignore[arg-type]
        finally:
            if hup is not None:
                loop.remove_signal_handler(hup)

    def hand_over(self) -> None:
        """SIGHUP: leave for a successor (with a standby lock, once the standby listens)."""
        if self.standby is None:
            self.leave()
        elif self._handing_over is None and self.standby.held:
            self.standby.release()
            log.info("handing over (SIGHUP): the standby lock is free; serving until the standby listens")
            self._handing_over = asyncio.get_running_loop().create_task(self._await_standby(self.standby))

    async def _await_standby(self, lock: StandbyLock) -> None:
        wait = HandoverWait(time.monotonic())
        warned = False
        while True:
            verdict = wait.step(time.monotonic(), successor_serving(lock, os.getpid()))
            if verdict == "leave":
                self._handing_over = None
                self.leave()
                return
            if verdict == "stay":
                if lock.try_acquire():
                    log.warning("no standby took over within %gs: serving on", wait.wait_s)
                    self._handing_over = None
                    return
                if not warned:  # a standby holds the lock but does not listen: wait for either
                    log.warning("the standby took the lock but does not listen after %gs; still serving", wait.wait_s)
                    warned = True
            await asyncio.sleep(POLL_S)

    def leave(self) -> None:
        """Stop accepting, close every client with 1012, exit 0."""
        log.info("handing over (SIGHUP): closing clients with 1012 for the successor")
        protocol = self.config.ws
        if isinstance(protocol, type) and issubclass(protocol, GatewayProtocol):
            protocol.leaving = RESTART
        if hasattr(self.service, "leaving"):
            self.service.leaving = RESTART
        self.should_exit = True

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


def configure_logging(config: Served, *, service: str | None = None) -> AlertRoute:
    """rsdev's structured logging (lib_common.logging: human lines on stderr, and with the
    config's `log_dir` JSON lines rotated at New York midnight) and the process's alert route
    (lib_common.alerts, the config's `alerts`), as every server and monitor has them."""
    name = service or _program_name()
    return setup_program(service=name, level=config.log_level, log_dir=config.log_dir, alerts=config.alerts)


def _program_name() -> str:
    """`restream` for both the console script and `python -m servers.restream`."""
    argv0 = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path("rsdev")
    return argv0.parent.name if argv0.stem == "__main__" else argv0.stem


def serve(
    app: object,
    *,
    host: str,
    port: int,
    ws: type[asyncio.Protocol] | str,
    log_level: str,
    gate: ConnectionGate | None = None,
    authenticated: bool = False,
    reuse_port: bool = False,
    standby: StandbyLock | None = None,
    **options: object,
) -> None:
    """Run an ASGI app under uvicorn until SIGTERM/SIGINT; WebSocket compression off (frames
    are built once and written as they are); every connection through `gate` (default: one
    on the default limits), its descriptor room measured now; a warning first when the server
    is not `authenticated` and `host` is not loopback. With `reuse_port` the listening socket
    takes SO_REUSEPORT, so that a successor can listen beside this process before SIGHUP
    hands over to it."""
    warning = exposure_warning(host, port, authenticated=authenticated)
    if warning is not None:
        log.warning("%s", warning)
    gate = gate or ConnectionGate.from_limits(ClientLimits())
    gate.fd_room = fd_room(gate.fd_headroom)
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        http=GatedH11Protocol.configured(gate),
        ws=ws,
        ws_per_message_deflate=False,
        log_level=log_level,
        log_config=None,  # uvicorn's loggers propagate to lib_common.logging's: one format, redacted
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        **options,  # type: ignore[arg-type]
    )
    server = CleanExitServer(config, gate, getattr(getattr(app, "state", None), "service", None), standby)
    server.run(sockets=[listening_socket(host, port)] if reuse_port else None)


def listening_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket with SO_REUSEADDR and SO_REUSEPORT (uvicorn listens on it): a second
    process may bind the same address while this one lives, and the kernel spreads new
    connections between the two until one closes its socket."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_REUSEPORT", socket.SO_REUSEADDR), 1)  # Windows: none
    try:
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def exposure_warning(host: str, port: int, *, authenticated: bool) -> str | None:
    """What to warn of when a server listens on `host`: nothing on loopback or with
    authentication; otherwise that anyone who can reach the port may connect."""
    if authenticated or is_loopback(host):
        return None
    return (
        f"listening on {host}:{port}, reachable beyond this machine, with no authentication: anyone "
        "who can reach the port may connect; configure tenants (tokens) or listen on 127.0.0.1 "
        "(docs/security.md)"
    )


def is_loopback(host: str) -> bool:
    """`host` is a loopback address or `localhost` (other names may resolve anywhere)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Served(Protocol):
    """What running a server needs of its config."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def log_level(self) -> str: ...
    @property
    def log_dir(self) -> Path | None: ...
    @property
    def alerts(self) -> AlertsConfig: ...


S = TypeVar("S", bound=Served)


def run_server(
    prog: str,
    load: Callable[[], S],
    app_module: str,
    *,
    options: Callable[[S], dict[str, Any]],
    service: str | None = None,
) -> int:
    """A server's main: its config (or exit 2), logging, then `app_module`'s `create_app(config)`
    under uvicorn until SIGTERM/SIGINT, with the `serve` keyword arguments `options(config)`
    gives (`ws` among them). The app is imported only then: --help and config errors do without
    starlette and the feeds."""
    config = load_or_exit(prog, load)
    route = configure_logging(config, service=service)
    try:
        create_app: Callable[[S], object] = importlib.import_module(app_module).create_app
        app = create_app(config)
        lock_path = getattr(config, "standby_lock", None)
        standby = stand_by(lock_path) if isinstance(lock_path, Path) else None  # may wait here
        serve(
            app,
            host=config.host,
            port=config.port,
            log_level=config.log_level,
            gate=_gate_of(app),
            authenticated=bool(getattr(config, "tenants", ())),
            reuse_port=bool(getattr(config, "reuse_port", False)),
            standby=standby,
            **options(config),
        )
    finally:
        route.close()
    return 0


def _gate_of(app: object) -> ConnectionGate | None:
    """The ConnectionGate of the app's service (a FanoutServer has one, so that /metrics counts
    what it refuses); None: the server takes the default limits."""
    gate = getattr(getattr(getattr(app, "state", None), "service", None), "gate", None)
    return gate if isinstance(gate, ConnectionGate) else None


def gateway_options(config: GatewayConfig) -> dict[str, Any]:
    """How a fan-out gateway is served: GatewayProtocol with the config's memory limits, WSS
    when the config has a certificate."""
    memory = config.memory
    return {
        "ws": GatewayProtocol.configured(high_water_bytes=memory.high_water_bytes, sndbuf_bytes=memory.sndbuf_bytes),
        "ws_max_size": MAX_WS_MESSAGE,
        "ssl_certfile": config.tls_cert,
        "ssl_keyfile": config.tls_key,
        "backlog": 4096,
    }

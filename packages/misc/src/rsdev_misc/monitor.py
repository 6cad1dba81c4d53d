"""What every monitor does with its probe: a check result, the loop and `--once` modes, the /health port.

Health is exposed the same way as the servers': `GET /health` on the monitor's port (200 while
the last check was healthy, 503 otherwise, JSON body with the result), or, with `--once` (for
cron), the exit code: 0 healthy, 1 unhealthy, 2 usage or configuration error.

A monitor's command line (config, flags, `main`) is rsdev_misc.command.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from lib_common.alerts import Route, current, spoken_duration
from lib_common.core.backoff import Backoff
from lib_common.logging import log_event

log = logging.getLogger(__name__)

EXIT_HEALTHY = 0
EXIT_UNHEALTHY = 1  # a usage or config error exits 2 (lib_common.flags.EXIT_CONFIG)


@dataclass(frozen=True, slots=True)
class CheckResult:
    healthy: bool
    latency_ms: float | None = None
    error: str | None = None
    details: dict[str, object] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, object]:
        body: dict[str, object] = {"status": "ok" if self.healthy else "unhealthy", "checked_at": self.at}
        if self.latency_ms is not None:
            body["latency_ms"] = round(self.latency_ms, 3)
        if self.error is not None:
            body["error"] = self.error
        body.update(self.details)
        return body


class Probe(Protocol):
    async def check(self) -> CheckResult: ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class HealthListen:
    host: str = "127.0.0.1"
    port: int | None = None  # None: no /health port


class HealthServer:
    """A minimal HTTP/1.1 responder: `GET /health` → the last result; anything else 404."""

    def __init__(self, current: Callable[[], CheckResult | None]) -> None:
        self._current = current
        self._server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._handle, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5.0)
            parts = request.split(b"\r\n", 1)[0].split()
            path = parts[1].split(b"?", 1)[0] if len(parts) >= 2 else b""
            body: dict[str, object]
            if path == b"/health":
                result = self._current()
                if result is None:
                    code, body = 503, {"status": "starting"}
                else:
                    code, body = (200 if result.healthy else 503), result.as_json()
            else:
                code, body = 404, {"error": "not found", "paths": ["/health"]}
            payload = json.dumps(body, default=str).encode()
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[code]
            writer.write(
                f"HTTP/1.1 {code} {reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def check_once(probe: Probe) -> CheckResult:
    try:
        return await probe.check()
    finally:
        await probe.close()


class ResultLog:
    """What a monitor's checks say in its log, as the reconnect policy says it: the first
    healthy check, the first unhealthy one, a WARNING summary at most every `summary_every_s`
    seconds while it stays unhealthy (the checks between at DEBUG), and the recovery with how
    long it was unhealthy. Time is the results' own `at`."""

    def __init__(self, name: str, summary_every_s: float = 60.0) -> None:
        self.name = name
        self.summary_every_s = summary_every_s
        self.previous: CheckResult | None = None
        self._down_since = 0.0
        self._summary_at = 0.0
        self._failed = 0

    def __call__(self, result: CheckResult) -> None:
        name, previous, fields = self.name, self.previous, result.as_json()
        self.previous = result
        if result.healthy and previous is None:
            log_event(log, logging.INFO, "healthy", f"{name} is healthy", **fields)
        elif result.healthy and previous is not None and not previous.healthy:
            down_s = round(result.at - self._down_since, 3)
            message = f"{name} is healthy again after {down_s:.1f} s unhealthy"
            log_event(log, logging.WARNING, "recovered", message, down_s=down_s, **fields)
        elif not result.healthy and (previous is None or previous.healthy):
            self._down_since = self._summary_at = result.at
            self._failed = 0
            log_event(log, logging.ERROR, "unhealthy", f"{name} is unhealthy: {result.error}", **fields)
        elif not result.healthy:
            self._failed += 1
            if result.at - self._summary_at >= self.summary_every_s:
                message = (
                    f"{name} still unhealthy after {result.at - self._down_since:.0f} s ({self._failed} failed checks)"
                )
                log_event(log, logging.WARNING, "unhealthy_summary", f"{message}: {result.error}", **fields)
                self._summary_at, self._failed = result.at, 0
            else:
                log_event(log, logging.DEBUG, "check", f"{name} check", **fields)
        else:
            log_event(log, logging.DEBUG, "check", f"{name} check", **fields)


class HealthAlerts:
    """A monitor's checks as alerts (lib_common.alerts): the first failed check starts an outage
    of `subject`, the first good one after it ends the outage, its duration from the first failed
    check's time to the good one's."""

    def __init__(self, subject: str, route: Callable[[], Route] = current) -> None:
        self.subject = subject
        self._route = route
        self._down_since: float | None = None

    def observe(self, result: CheckResult) -> None:
        if not result.healthy and self._down_since is None:
            self._down_since = result.at
            self._route().start(self.subject, f"{self.subject} down: {result.error}")
        elif result.healthy and self._down_since is not None:
            duration_s = max(0.0, result.at - self._down_since)
            self._down_since = None
            self._route().end(self.subject, f"{self.subject} back after {spoken_duration(duration_s)}", duration_s)


async def run_loop(
    name: str,
    probe: Probe,
    *,
    interval_s: float,
    health: HealthListen,
    retry_backoff: bool = True,
    stop: asyncio.Event | None = None,
    alerts: HealthAlerts | None = None,
) -> int:
    """Check every `interval_s` until SIGTERM/SIGINT (or `stop`); with `retry_backoff`, retry a
    failed check sooner, with backoff capped at the interval; each check's health to `alerts`."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)  # POSIX; Ctrl-C raises KeyboardInterrupt on Windows
    last: CheckResult | None = None
    server = HealthServer(lambda: last)
    if health.port is not None:
        await server.start(health.host, health.port)
        log_event(log, logging.INFO, "listening", f"{name} serves /health", host=health.host, port=server.port)
    backoff = Backoff(base_s=min(0.5, interval_s), cap_s=interval_s)
    result_log = ResultLog(name)
    try:
        while not stop.is_set():
            result = await probe.check()
            result_log(result)
            if alerts is not None:
                alerts.observe(result)
            last = result
            if result.healthy or not retry_backoff:
                backoff.reset()
                delay = interval_s
            else:
                delay = backoff.next_delay()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    finally:
        await server.stop()
        await probe.close()
    return EXIT_HEALTHY


def run_main(
    name: str,
    probe: Probe,
    *,
    once: bool,
    interval_s: float,
    health: HealthListen,
    retry_backoff: bool = True,
    alerts: HealthAlerts | None = None,
) -> int:
    """`--once`: one check, printed as JSON, exit code 0/1 (no alerts: cron tells). Otherwise the loop."""
    if once:
        result = asyncio.run(check_once(probe))
        print(json.dumps({"monitor": name, **result.as_json()}, default=str))
        ResultLog(name)(result)
        return EXIT_HEALTHY if result.healthy else EXIT_UNHEALTHY
    return asyncio.run(
        run_loop(name, probe, interval_s=interval_s, health=health, retry_backoff=retry_backoff, alerts=alerts)
    )

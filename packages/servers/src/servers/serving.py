"""What every rsdev server's command line shares: flag types and running uvicorn to a clean exit."""

from __future__ import annotations

import argparse
import asyncio
import logging
from types import FrameType

import uvicorn

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, found {text}")
    return value


class CleanExitServer(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process dies by the
    signal; a shutdown that completed is a success, and exits 0 (what supervisord and scripts
    expect of a clean stop)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        super().handle_exit(sig, frame)
        captured = getattr(self, "_captured_signals", None)
        if isinstance(captured, list):
            captured.clear()


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def serve(
    app: object,
    *,
    host: str,
    port: int,
    ws: type[asyncio.Protocol],
    log_level: str,
    **options: object,
) -> None:
    """Run an ASGI app under uvicorn until SIGTERM/SIGINT; WebSocket compression off (frames
    are built once and written as they are)."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        ws=ws,
        ws_per_message_deflate=False,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        **options,  # type: ignore[arg-type]
    )
    CleanExitServer(config).run()

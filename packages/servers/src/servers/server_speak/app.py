"""server_speak's ASGI app: POST /speak, and /health, /status, /metrics."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from servers.server_speak.config import SpeakConfig
from servers.server_speak.service import SpeakService, parse_speak

MAX_BODY = 16 * 1024


def create_app(config: SpeakConfig, service: SpeakService | None = None) -> Starlette:
    speak_service = service or SpeakService(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await speak_service.start()
        try:
            yield
        finally:
            await speak_service.stop()

    async def speak(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
        try:
            alert, event = parse_speak(json.loads(raw))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not speak_service.wants_event(event):
            return JSONResponse({"result": "muted", "event": event}, status_code=202)
        outcome = speak_service.submit(alert)
        return JSONResponse({"result": outcome.value}, status_code=202)

    async def health(request: Request) -> Response:
        body = {"status": "ok" if speak_service.serving else "starting", "sound_card": speak_service.speaker.has_card}
        return JSONResponse(body, status_code=200 if speak_service.serving else 503)

    async def status(request: Request) -> Response:
        return JSONResponse(speak_service.status())

    async def metrics(request: Request) -> Response:
        return PlainTextResponse(speak_service.metrics(), media_type="text/plain; version=0.0.4")

    app = Starlette(
        routes=[
            Route("/speak", speak, methods=["POST"]),
            Route("/health", health),
            Route("/status", status),
            Route("/metrics", metrics),
        ],
        lifespan=lifespan,
    )
    app.state.service = speak_service
    return app

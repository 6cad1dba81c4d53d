"""server_speak's ASGI app: POST /speak, and the kit's figure routes."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from lib_common import untrusted_json
from servers.kit import app as kit
from servers.server_speak.config import SpeakConfig
from servers.server_speak.service import SpeakService, parse_speak

MAX_BODY = 16 * 1024


def create_app(config: SpeakConfig, service: SpeakService | None = None) -> Starlette:
    speak_service = service or SpeakService(config)

    async def speak(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return JSONResponse({"error": f"body over {MAX_BODY} bytes"}, status_code=413)
        try:
            alert, event = parse_speak(untrusted_json.loads(raw))
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not speak_service.wants_event(event):
            return JSONResponse({"result": "muted", "event": event}, status_code=202)
        outcome = speak_service.submit(alert)
        return JSONResponse({"result": outcome.value}, status_code=202)

    def health() -> dict[str, object]:
        return {"status": "ok" if speak_service.serving else "starting", "sound_card": speak_service.speaker.has_card}

    return kit.create_app(speak_service, Route("/speak", speak, methods=["POST"]), health=health)

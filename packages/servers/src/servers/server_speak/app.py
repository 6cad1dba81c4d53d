"""server_speak's ASGI app: POST /speak, and the kit's figure routes.

POST /speak takes a JSON body (Content-Type application/json, at most 16 KiB, servers.kit.
json_body); a page on another site can neither send one (its Origin is refused, and a JSON
content type needs a preflight) nor make the machine speak with a text/plain form post.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from servers.kit import app as kit
from servers.kit.json_body import BodyRefused, read_json
from servers.server_speak.config import SpeakConfig
from servers.server_speak.service import SpeakService, parse_speak

MAX_BODY = 16 * 1024


def create_app(config: SpeakConfig, service: SpeakService | None = None) -> Starlette:
    speak_service = service or SpeakService(config)

    async def speak(request: Request) -> Response:
        try:
            alert, event = parse_speak(await read_json(request, max_bytes=MAX_BODY))
        except BodyRefused as exc:
            return exc.response()
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if not speak_service.wants_event(event):
            return JSONResponse({"result": "muted", "event": event}, status_code=202)
        outcome = speak_service.submit(alert)
        return JSONResponse({"result": outcome.value}, status_code=202)

    def health() -> dict[str, object]:
        return {"status": "ok" if speak_service.serving else "starting", "sound_card": speak_service.speaker.has_card}

    return kit.create_app(speak_service, Route("/speak", speak, methods=["POST"]), health=health, http=config.http)

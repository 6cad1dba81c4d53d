"""An HTTP request's JSON body, read as untrusted input: bounded, typed, and decoded one way.

- The content type must be JSON (`application/json`, or `application/…+json`): 415 otherwise.
  A web page can make a browser POST `text/plain` anywhere without asking ("simple request");
  a JSON content type needs a CORS preflight, which these servers never grant.
- A Content-Length over the limit gets 413 before a byte of the body is read; a body sent
  without one (chunked) is read in its chunks and refused with 413 as soon as it passes the limit.
- lib_common.untrusted_json decodes it: 400 with the reason for what is not JSON, is nested too
  deep (60k levels) or holds NaN/Infinity.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from lib_common import untrusted_json


class BodyRefused(Exception):
    """A body that is not taken: the HTTP status to answer and why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.message}, status_code=self.status)


def is_json_type(content_type: str) -> bool:
    media = content_type.partition(";")[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def declared_length(request: Request) -> int | None:
    """The Content-Length, None when there is none; BodyRefused (400) when it is not a length."""
    text = request.headers.get("content-length")
    if text is None:
        return None
    if not text.strip().isdigit():
        raise BodyRefused(400, f"bad Content-Length {text[:32]!r}")
    return int(text)


async def read_json(request: Request, *, max_bytes: int) -> object:
    """The decoded body, or BodyRefused with 415, 413 or 400."""
    content_type = request.headers.get("content-type", "")
    if not is_json_type(content_type):
        found = content_type[:64] or "none"
        raise BodyRefused(415, f"expected Content-Type application/json, found {found}")
    too_large = BodyRefused(413, f"body over {max_bytes} bytes")
    length = declared_length(request)
    if length is not None and length > max_bytes:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise too_large
    try:
        return untrusted_json.loads(body)
    except untrusted_json.BadJSON as exc:
        raise BodyRefused(400, f"bad JSON body: {exc}") from None

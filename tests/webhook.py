"""A local HTTP server standing in for server_speak's /speak and for a webhook in the alert
tests: it answers 202 to every POST and keeps the JSON bodies, with the path, in order."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


class Receiver:
    """A local HTTP server standing in for server_speak and a webhook: it keeps every POST."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        received = self.received = threading.Condition()
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                self.send_response(202)
                self.end_headers()
                with received:
                    bodies.append({"path": self.path, **body})
                    received.notify_all()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        with self.received:
            assert self.received.wait_for(lambda: len(self.bodies) >= count, timeout), self.bodies
            return list(self.bodies)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def phases(self, path: str = "/hook") -> list[tuple[str, str]]:
        """(phase, subject) of every webhook body so far."""
        with self.received:
            return [(b["phase"], b["subject"]) for b in self.bodies if b["path"] == path]

    def wait_for(self, phase: str, path: str = "/hook", timeout: float = 30.0) -> dict[str, Any]:
        """The first body at `path` whose phase is `phase`."""
        with self.received:
            assert self.received.wait_for(
                lambda: any(b["path"] == path and b.get("phase") == phase for b in self.bodies), timeout
            ), self.bodies
            return next(b for b in self.bodies if b["path"] == path and b.get("phase") == phase)

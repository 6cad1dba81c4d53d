"""uvicorn's WebSocket protocol, opened up so the hub can write, close and abort directly.

ASGI cannot send a close frame without a status code (what Yahoo answers a malformed client
frame with) nor abort a connection (the abort fault). This subclass of uvicorn's sans-I/O
protocol (by the kit's `ExposedProtocol`) hands itself to the application as the
`server_dummy.egress` scope extension and
implements the hub's `Egress` on the connection's websockets state machine and transport.
The handshake, receiving, pings and the peer's closing handshake stay uvicorn's.
"""

from __future__ import annotations

import socket
import struct
import sys

from servers.kit.egress import ExposedProtocol

EXTENSION = "server_dummy.egress"

# SO_LINGER on, timeout 0: close() sends RST instead of FIN (socket(7); Winsock's struct linger
# has u_short fields).
_RESET = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)


class DummyProtocol(ExposedProtocol):
    extension = EXTENSION

    @property
    def _gone(self) -> bool:
        return self.close_sent or self.disconnected or self.transport.is_closing()

    def send_text(self, text: str) -> bool:
        # A client that stopped reading loses frames rather than growing our buffer.
        if self._gone or not self.writable.is_set():
            return False
        self.conn.send_text(text.encode())
        self.transport.write(b"".join(self.conn.data_to_send()))
        return True

    def close(self, code: int | None, reason: str = "") -> None:
        """As uvicorn's `websocket.close`, but `code=None` sends an empty close frame (RFC 6455 §7.1.5: 1005)."""
        if self._gone:
            return
        self.start_close(code, reason, timeout_s=self.close_timeout, on_timeout=self.transport.close)

    def abort(self) -> None:
        if self.disconnected:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        self.transport.abort()

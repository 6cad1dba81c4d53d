"""Server-to-client WebSocket frames built once, written to many sockets.

RFC 6455 §5.1: frames a server sends are not masked, so the same bytes are a valid frame on
every connection that did not negotiate compression for them (§5.2: RSV1 stays clear, which
permessage-deflate peers read as an uncompressed message, RFC 7692 §6).
"""

from __future__ import annotations

import struct

OP_TEXT = 0x1
OP_CLOSE = 0x8
_FIN = 0x80


def text_frame(payload: bytes) -> bytes:
    """A complete FIN text frame carrying `payload` (already UTF-8)."""
    return _frame(OP_TEXT, payload)


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame (RFC 6455 §5.5.1); the reason is cut to fit 125 bytes."""
    body = struct.pack("!H", code) + reason.encode()[:123]
    return _frame(OP_CLOSE, body)


def _frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    first = _FIN | opcode
    # §5.2: 7-bit length, or 126 + 16-bit, or 127 + 64-bit; the mask bit stays clear.
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload

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


def text_header(size: int) -> bytes:
    """The header of a FIN text frame whose payload is `size` bytes: `text_header(len(p)) + p`
    is `text_frame(p)`, for builders that reuse one header for many payloads of a length."""
    return _header(OP_TEXT, size)


def close_frame(code: int, reason: str = "") -> bytes:
    """A close frame (RFC 6455 §5.5.1); the reason is cut to fit 125 bytes."""
    body = struct.pack("!H", code) + reason.encode()[:123]
    return _frame(OP_CLOSE, body)


def _frame(opcode: int, payload: bytes) -> bytes:
    return _header(opcode, len(payload)) + payload


def _header(opcode: int, n: int) -> bytes:
    first = _FIN | opcode
    # §5.2: 7-bit length, or 126 + 16-bit, or 127 + 64-bit; the mask bit stays clear.
    if n < 126:
        return struct.pack("!BB", first, n)
    if n < 1 << 16:
        return struct.pack("!BBH", first, 126, n)
    return struct.pack("!BBQ", first, 127, n)

"""RESP2, the Redis wire protocol, for the bus's raw connections: pipelined commands and pub/sub.

Sans-I/O (redis.io/docs/latest/develop/reference/protocol-spec): `command()` encodes a request as
an array of bulk strings; `ReplyReader` takes bytes in and hands out complete replies: simple
strings (+), errors (-), integers (:), bulk strings ($) and arrays (*) of them, which is all that
PUBLISH, XADD, XREADGROUP, AUTH, SELECT, PING and pub/sub pushes use.

`RespReader` keeps its place between feeds (a stack of open arrays), so a large reply is parsed
once, as it arrives; redis-py's pure-Python parser awaits once per element, tens of µs per
stream entry. Entries in the publisher's own layout are matched in one regex.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class ReplyError:
    """An error reply (`-ERR ...`): the command failed, the connection is fine."""

    message: str

    def __str__(self) -> str:
        return self.message


Reply = bytes | int | ReplyError | list["Reply"] | None


class ProtocolViolation(ValueError):
    """The server sent something that is not a RESP2 reply."""


def command(*args: bytes | str | int) -> bytes:
    """One request: `*N` then each argument as a bulk string."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


INCOMPLETE: Final = object()
_CRLF = b"\r\n"
# [id, ["symbol", S, "frame", F]] up to F's bytes: id, S's declared length, S, F's length.
_STREAM_ENTRY = re.compile(
    rb"\*2\r\n\$\d+\r\n(\d+-\d+)\r\n\*4\r\n\$6\r\nsymbol\r\n\$(\d+)\r\n([^\r\n]*)\r\n\$5\r\nframe\r\n\$(\d+)\r\n"
)


class RespReader:
    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0
        self._stack: list[tuple[int, list[Reply]]] = []

    def feed(self, data: bytes) -> None:
        self._buf += data

    def reply(self) -> Reply | object:
        """The next whole reply, or INCOMPLETE until enough bytes have been fed."""
        buf, pos, stack = self._buf, self._pos, self._stack
        end = len(buf)
        while True:
            value: Reply
            entry = _STREAM_ENTRY.match(buf, pos) if stack else None
            if entry is not None and int(entry[2]) == len(entry[3]):
                # The publisher's layout, [id, [symbol, S, frame, F]], in one match: most of a
                # stream read, at a fraction of the element-by-element cost.
                start = entry.end()
                nxt = start + int(entry[4]) + 2
                if nxt > end:
                    break
                if buf[nxt - 2 : nxt] != _CRLF:
                    raise ProtocolViolation(f"bulk string not followed by CRLF at offset {nxt - 2}")
                value = [entry[1], [b"symbol", entry[3], b"frame", bytes(buf[start : nxt - 2])]]
            else:
                nl = buf.find(_CRLF, pos)
                if nl < 0:
                    break
                kind = buf[pos]
                if kind == 36:  # $
                    n = int(buf[pos + 1 : nl])
                    if n < 0:
                        value, nxt = None, nl + 2
                    else:
                        nxt = nl + 4 + n
                        if nxt > end:
                            break
                        value = bytes(buf[nl + 2 : nl + 2 + n])
                elif kind == 42:  # *
                    n = int(buf[pos + 1 : nl])
                    pos = nl + 2
                    if n > 0:
                        stack.append((n, []))
                        continue
                    value = None if n < 0 else []
                    nxt = pos
                elif kind == 58:  # :
                    value, nxt = int(buf[pos + 1 : nl]), nl + 2
                elif kind == 43:  # +
                    value, nxt = bytes(buf[pos + 1 : nl]), nl + 2
                elif kind == 45:  # -
                    value, nxt = ReplyError(buf[pos + 1 : nl].decode(errors="replace")), nl + 2
                else:
                    raise ProtocolViolation(f"unexpected RESP type byte {kind!r} at offset {pos}")
            pos = nxt
            while stack:
                size, items = stack[-1]
                items.append(value)
                if len(items) < size:
                    break
                stack.pop()
                value = items
            if not stack:
                del buf[:pos]
                self._pos = 0
                return value
        self._pos = pos
        return INCOMPLETE


class ReplyReader:
    """Bytes in, every complete reply out: for pipelines and pub/sub pushes."""

    def __init__(self) -> None:
        self._reader = RespReader()
        self._replies: list[Reply] = []

    def feed(self, data: bytes) -> None:
        self._reader.feed(data)
        while (reply := self._reader.reply()) is not INCOMPLETE:
            self._replies.append(reply)  # type: ignore[arg-type]

    def take(self) -> list[Reply]:
        replies, self._replies = self._replies, []
        return replies

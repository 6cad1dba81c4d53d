"""RESP2, the Redis wire protocol, for the bus's raw connections: pipelined commands and pub/sub.

Sans-I/O (redis.io/docs/latest/develop/reference/protocol-spec): `command()` encodes a request as
an array of bulk strings; `ReplyReader` takes bytes in and hands out complete replies: simple
strings (+), errors (-), integers (:), bulk strings ($) and arrays (*) of them, which is all that
PUBLISH, XADD, AUTH, SELECT, PING and pub/sub pushes use.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReplyError:
    """An error reply (`-ERR ...`): the command failed, the connection is fine."""

    message: str


Reply = bytes | int | ReplyError | list["Reply"] | None


class ProtocolViolation(ValueError):
    """The server sent something that is not a RESP2 reply this reader knows."""


def command(*args: bytes | str | int) -> bytes:
    """One request: `*N` then each argument as a bulk string."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class ReplyReader:
    def __init__(self) -> None:
        self._buffer = bytearray()
        self._replies: list[Reply] = []

    def feed(self, data: bytes) -> None:
        self._buffer += data
        pos = 0
        while True:
            parsed = self._parse(pos)
            if parsed is None:
                break
            reply, pos = parsed
            self._replies.append(reply)
        if pos:
            del self._buffer[:pos]

    def take(self) -> list[Reply]:
        replies, self._replies = self._replies, []
        return replies

    def _parse(self, pos: int) -> tuple[Reply, int] | None:
        """One reply starting at `pos` and where it ends; None when it is not complete yet."""
        buffer = self._buffer
        end = buffer.find(b"\r\n", pos)
        if end < 0:
            return None
        kind, line = buffer[pos : pos + 1], bytes(buffer[pos + 1 : end])
        after = end + 2
        if kind == b"$":
            length = int(line)
            if length < 0:
                return None, after
            if len(buffer) < after + length + 2:
                return None
            return bytes(buffer[after : after + length]), after + length + 2
        if kind == b"*":
            count = int(line)
            if count < 0:
                return None, after
            items: list[Reply] = []
            for _ in range(count):
                parsed = self._parse(after)
                if parsed is None:
                    return None
                item, after = parsed
                items.append(item)
            return items, after
        if kind == b"+":
            return line, after
        if kind == b"-":
            return ReplyError(line.decode(errors="replace")), after
        if kind == b":":
            return int(line), after
        raise ProtocolViolation(f"unexpected reply type {bytes(kind)!r}")

"""RESP2, the Redis wire protocol, for the bus's raw connections: pipelined commands and pub/sub.

Sans-I/O (redis.io/docs/latest/develop/reference/protocol-spec): `command()` encodes a request as
an array of bulk strings; `RespReader` / `ReplyReader` take bytes in and hand out complete
replies: simple strings (+) and bulk strings ($) as bytes, integers (:), errors (-) as
`ReplyError`, arrays (*) as lists, nulls as None.

The parsing is hiredis's (the C parser redis-py also uses when it is installed): a large reply
is parsed once, as it arrives, in C. redis-py's pure-Python parser awaits once per element, tens
of µs per stream entry; our own incremental pure-Python parser, which this replaced, cost
1.6 µs per stream entry against hiredis's 0.4 (docs/redis.md, decision 9).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

import hiredis


@dataclass(frozen=True, slots=True)
class ReplyError:
    """An error reply (`-ERR ...`): the command failed, the connection is fine."""

    message: str

    @property
    def code(self) -> str:
        """The error's kind: the first word of the reply, by the protocol's convention
        (`-NOGROUP No such key ...` → "NOGROUP"; `-ERR ...` → "ERR")."""
        return self.message.split(" ", 1)[0]

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

# An aggregate header (array, map, set, push, attribute) at a line start declaring a million
# elements or more. hiredis allocates the whole list when it reads the header (redis/hiredis#1357:
# `~211456789\r\n`, 12 bytes, cost 1.5 s; 2e9 elements, 6 s), and no reply of ours comes near
# it: the largest is an XREADGROUP of one batch. A literal CRLF prefix and a bounded digit run:
# one linear scan of each chunk in C, no backtracking. Inside a bulk string the same bytes could
# in principle stand; the bus's payloads are JSON, which has no raw CR or LF.
_HUGE_AGGREGATE = re.compile(rb"\r\n[*%~>|][0-9]{7}")
_TAIL = 10  # bytes kept from the previous chunk: a header cut between two feeds is still seen


class RespReader:
    """Incremental: `feed` bytes as they arrive, `reply()` hands out each complete reply once,
    or INCOMPLETE until enough bytes have been fed. hiredis keeps its place between feeds and
    builds the reply in C (~0.4 µs a stream entry)."""

    def __init__(self) -> None:
        # hiredis calls replyError with the message and hands back what it returns; its stub asks
        # for an Exception, but any callable works, and a value suits a reply better.
        self._reader = hiredis.Reader(replyError=cast(Callable[[str], Exception], ReplyError), notEnoughData=INCOMPLETE)
        self._tail = b"\r\n"  # the first byte fed starts a reply, as if after a line

    def feed(self, data: bytes) -> None:
        """Raises ProtocolViolation for an aggregate declaring a million elements or more, before
        hiredis sees it."""
        # The chunk itself, and the seam with the last one (no copy of a whole chunk: this is
        # every read of every connection).
        seam = self._tail + data[:_TAIL]
        if _HUGE_AGGREGATE.search(seam) is not None or _HUGE_AGGREGATE.search(data) is not None:
            raise ProtocolViolation("a reply declaring a million elements or more: no reply of ours is that large")
        self._tail = data[-_TAIL:] if len(data) >= _TAIL else seam[-_TAIL:]
        self._reader.feed(data)

    def reply(self) -> Reply | object:
        try:
            reply: Reply | object = self._reader.gets()
        except hiredis.ProtocolError as exc:
            raise ProtocolViolation(str(exc)) from None
        except TypeError as exc:
            # A RESP3 map or set keyed by a map, set or array: hiredis cannot build it (and its
            # reader is spent). We never ask for RESP3, so it is no Redis reply of ours either.
            raise ProtocolViolation(f"a reply that cannot be built: {exc}") from None
        return reply


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

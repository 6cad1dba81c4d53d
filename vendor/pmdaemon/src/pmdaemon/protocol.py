"""supervisord's event listener protocol, without I/O.

http://supervisord.org/events.html#event-listener-notification-protocol: the listener writes
`READY\n`; supervisord sends one header line of `key:value` tokens whose `len` gives the size of
the payload that follows; the listener answers `RESULT 2\nOK` (or `FAIL`) and is ready again.
`ListenerParser.feed` takes bytes as they arrive and returns complete events.
"""

from __future__ import annotations

from dataclasses import dataclass

READY = b"READY\n"
OK = b"RESULT 2\nOK"
FAIL = b"RESULT 4\nFAIL"


def tokens(line: str) -> dict[str, str]:
    """`a:1 b:2` -> {"a": "1", "b": "2"}."""
    out = {}
    for token in line.split():
        key, _, value = token.partition(":")
        out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class Event:
    name: str
    headers: dict[str, str]
    payload: str

    @property
    def fields(self) -> dict[str, str]:
        """The payload's first line as tokens (PROCESS_STATE: processname, groupname, from_state, pid)."""
        return tokens(self.payload.split("\n", 1)[0])


class ProtocolError(ValueError):
    """supervisord sent something that is not an event header."""


class ListenerParser:
    def __init__(self) -> None:
        self._buffer = b""
        self._header: dict[str, str] | None = None

    def feed(self, data: bytes) -> list[Event]:
        self._buffer += data
        events: list[Event] = []
        while True:
            if self._header is None:
                line, sep, rest = self._buffer.partition(b"\n")
                if not sep:
                    return events
                header = tokens(line.decode())
                if "eventname" not in header or not header.get("len", "").isdigit():
                    raise ProtocolError(f"expected an event header, found {line[:200]!r}")
                self._header, self._buffer = header, rest
            size = int(self._header["len"])
            if len(self._buffer) < size:
                return events
            payload, self._buffer = self._buffer[:size], self._buffer[size:]
            events.append(Event(self._header["eventname"], self._header, payload.decode(errors="replace")))
            self._header = None

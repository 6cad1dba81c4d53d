"""Exception tree of lib_common.

RsdevError
├── PlacedError          an error at a place in some input, said as `where: message`
│   ├── ConfigError      bad configuration: says where (file:line:col or JSON path) and why
│   │   └── ConfigErrors several of them at once, every problem a config file has
│   └── PayloadError     a provider's JSON body lacks a value or has it in the wrong shape (its path)
├── SecretError          a key cannot be loaded or a token does not decrypt (fails closed)
├── ProtocolError        a client sent something the gateway cannot act on
├── ClientRefused        lib_common.client: the server refused us for good (HTTP 401/403)
└── BusError             Redis, the message bus between nodes, failed us
    ├── BusUnavailable   cannot reach Redis, or the connection dropped (retry with backoff)
    ├── BusReplyError    Redis answered a command with an error reply; `code` is its first word
    │                    (NOGROUP, BUSYGROUP, WRONGTYPE, NOAUTH, ERR, ...)
    └── BusMessageError  a message on the bus is not in the shared format (count it, skip it)

Every Redis error is one of these from the moment it leaves `lib_common.redis_bus`: the socket's
OSError, a timeout and a protocol violation become BusUnavailable, an error reply BusReplyError.
"""

from __future__ import annotations


class RsdevError(Exception):
    """Base of every error lib_common raises on purpose."""


class PlacedError(RsdevError):
    """An error at a place in some input, said as `where: message`: a config's file:line:col or
    key path, a provider body's JSON path."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class ConfigError(PlacedError):
    """A configuration value is missing, malformed or out of range."""


class ConfigErrors(ConfigError):
    """Every problem found in one configuration, each a `ConfigError`; `str()` lists one a line."""

    def __init__(self, problems: list[ConfigError]) -> None:
        if not problems:
            raise ValueError("ConfigErrors needs at least one problem")
        RsdevError.__init__(self, "\n".join(str(problem) for problem in problems))
        self.problems = problems
        self.where = problems[0].where
        self.message = problems[0].message


class PayloadError(PlacedError):
    """A provider's body lacks a value the parser needs, or has it in the wrong shape; `where` is
    the value's JSON path."""


class SecretError(RsdevError):
    """A master key is missing or unsafe, or a token is malformed or does not decrypt."""


class ProtocolError(RsdevError):
    """A client message broke the wire contract; `code` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ClientRefused(RsdevError):
    """The server answered the client's handshake with a status no retry can fix (401: a wrong
    or missing token; 403: a refused origin); raised from the client's iteration."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BusError(RsdevError):
    """Redis (the bus between ingest and edge nodes) failed; socket and protocol errors end here."""


class BusUnavailable(BusError):
    """Redis cannot be reached or the connection dropped: back off and reconnect."""


class BusReplyError(BusError):
    """Redis refused a command: an error reply (`-CODE message`). The connection is still in step,
    but resending the same command will not help unless the cause (a missing group, a key of the
    wrong type, bad credentials) is dealt with; callers decide by `code`, never by the text."""

    def __init__(self, code: str, message: str, *, where: str = "redis") -> None:
        super().__init__(f"{where} refused: {message}")
        self.code = code
        self.message = message


class BusMessageError(BusError):
    """A message on the bus is not in the shared format; `reason` is a short label for figures."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

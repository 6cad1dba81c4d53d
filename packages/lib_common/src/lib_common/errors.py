"""Exception tree of lib_common.

RsdevError
├── ConfigError          bad configuration: says where (file:line:col or JSON path) and why
└── ProtocolError        a client sent something the gateway cannot act on
"""

from __future__ import annotations


class RsdevError(Exception):
    """Base of every error lib_common raises on purpose."""


class ConfigError(RsdevError):
    """A configuration value is missing, malformed or out of range."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


class ProtocolError(RsdevError):
    """A client message broke the wire contract; `code` goes into the error frame."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

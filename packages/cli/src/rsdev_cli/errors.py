"""Exception tree of rsdev_cli.

CliError            bad input or a failed check; `str()` is the whole message, `where: message`
└── (json5format.ParseError and lib_common's SecretError are translated to it at the boundary)
"""

from __future__ import annotations


class CliError(Exception):
    """A command cannot go on: the message says where (file, file:line:col or path) and why."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message

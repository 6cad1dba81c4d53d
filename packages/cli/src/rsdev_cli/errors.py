"""Exception tree of rsdev_cli: what a command raises on purpose, and what `common.run` turns
into its message on stderr and exit status 1 (bad usage is argparse's, exit 2).

RsdevError (lib_common.errors)
├── CliError       bad input or a failed check; `str()` is the whole message, `where: message`
│   │              (a file, file:line:col, a flag or a path in a document)
│   └── UsageError what was asked cannot be done as asked (an output that exists without
│                  --force): exit 2, like argparse's usage errors
├── ConfigError    j5-format's --options file (lib_common.config): `file:line:col: path: message`
│   └── ConfigErrors   every problem of that file at once, one a line
└── SecretError    rs_encrypt: a key that cannot be loaded, a token that does not decrypt
json5format.ParseError   an input that is not JSON5: `file:line:col: message`
"""

from __future__ import annotations

from lib_common.errors import ConfigError, ConfigErrors, RsdevError, SecretError

__all__ = ["CliError", "ConfigError", "ConfigErrors", "RsdevError", "SecretError", "UsageError"]


class CliError(RsdevError):
    """A command cannot go on: the message says where (file, file:line:col or path) and why."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.message = message


class UsageError(CliError):
    """The command line asks for something refused as asked (exit 2): the message says what to add."""

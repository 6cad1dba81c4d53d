"""The exceptions of pmdaemon.

    Exception
    └── PmdaemonError          anything pmdaemon reports to its user, then exits non-zero
        ├── ConfigError        a services file is not JSON5 or breaks the schema:
        │                      `file:line:col: json.path: reason`
        ├── SupervisorError    supervisord cannot be started, reached or obeyed
        │   └── NotRunning     no supervisord answers on the state dir's socket
        └── NotStarted         services did not reach RUNNING (FATAL): exit 3, with the reasons

Errors of the layers below (xmlrpc faults, socket errors, json5format.ParseError) are
translated where they are caught, so callers only ever handle this tree.
"""

from __future__ import annotations


class PmdaemonError(Exception):
    """Base of everything pmdaemon raises on purpose."""


class ConfigError(PmdaemonError):
    """A services file failed validation; `str()` gives `source:line:col: path: reason`."""

    def __init__(self, reason: str, *, path: str, source: str, line: int, column: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path = path
        self.source = source
        self.line = line
        self.column = column

    def __str__(self) -> str:
        where = f"{self.source}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.reason}" if self.path else f"{where}: {self.reason}"


class SupervisorError(PmdaemonError):
    """supervisord failed to start, answer or carry out a request."""


class NotRunning(SupervisorError):
    """No supervisord is listening on the state dir's socket."""


class NotStarted(PmdaemonError):
    """`start` saw services go FATAL (or not settle) instead of reaching RUNNING."""

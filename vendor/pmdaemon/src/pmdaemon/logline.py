"""pmdaemon's own log lines in the one format every rsdev server writes (lib_common.logging's
HumanFormatter), without depending on lib_common (an optional extra here):

    2026-12-02T08:55:00.123-05:00 INFO     pmdaemon-watch pmdaemon.watch: restream: RUNNING -> STOPPING

an ISO 8601 local date-time to the millisecond with its UTC offset, the level padded to 8, the
service (`pmdaemon-watch` for the watch, `pmdaemon` for commands and the launch step), the
logger, then the message on one line (control characters written as escapes, so text from a
service cannot forge a line). tests/pmdaemon/test_logline.py holds it to HumanFormatter's
output, record for record.
"""

from __future__ import annotations

import logging
import re
import sys
from datetime import datetime
from typing import IO, TextIO

# C0 and C1 controls but tab, and the Unicode line and paragraph separators.
_CONTROLS = [*range(0x00, 0x09), *range(0x0A, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]
_ESCAPES = {code: f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" for code in _CONTROLS}
_ESCAPES.update({ord("\n"): "\\n", ord("\r"): "\\r"})


def one_line(text: str) -> str:
    return text.translate(_ESCAPES)


def stamp(created: float) -> str:
    """`created` (seconds since the epoch) as local ISO 8601 time with its UTC offset."""
    return datetime.fromtimestamp(created).astimezone().isoformat(timespec="milliseconds")


class LineFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = f"{stamp(record.created)} {record.levelname:<8} {self.service} {record.name}: "
        line += one_line(record.getMessage())
        return line if not record.exc_info else f"{line}\n{self.formatException(record.exc_info)}"


def setup(service: str, *, stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Log pmdaemon's records (logger `pmdaemon` and below) to `stream` (stderr) in the format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(LineFormatter(service))
    logger = logging.getLogger("pmdaemon")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


# supervisord's own format (supervisor.loggers, fixed): `2026-12-02 08:55:00,123 INFO message`.
_SUPERVISORD = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) ([A-Z]{4}) (.*)")
_SUPERVISORD_LEVELS = {"CRIT": "CRITICAL", "ERRO": "ERROR", "WARN": "WARNING", "INFO": "INFO"}


def supervisord_line(line: str) -> str:
    """One line of supervisord's log in pmdaemon's format (service `supervisord`); a line that
    is not one of its records (a traceback's) is passed on unchanged."""
    match = _SUPERVISORD.fullmatch(line.rstrip("\n"))
    if match is None:
        return line.rstrip("\n")
    day, clock, millis, level, message = match.groups()
    local = datetime.fromisoformat(f"{day}T{clock}.{millis}").astimezone()
    name = _SUPERVISORD_LEVELS.get(level, "DEBUG")
    return f"{local.isoformat(timespec='milliseconds')} {name:<8} supervisord supervisord: {one_line(message)}"


def relay_supervisord(source: IO[bytes], sink: TextIO) -> None:
    """Copy supervisord's output to `sink` line by line, reformatted, until it closes."""
    for raw in source:
        sink.write(supervisord_line(raw.decode("utf-8", errors="replace")) + "\n")
        sink.flush()

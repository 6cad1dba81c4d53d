"""pmdaemon's log lines match the servers' format (lib_common.logging.HumanFormatter) record for
record, and supervisord's lines are rewritten into it in the foreground."""

from __future__ import annotations

import io
import logging
import re
import sys
from datetime import datetime

import pytest

from pmdaemon.logline import LineFormatter, setup, supervisord_line

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d"


def record(message: str, level: int = logging.WARNING) -> logging.LogRecord:
    return logging.LogRecord("pmdaemon.watch", level, __file__, 1, message, (), None)


@pytest.mark.parametrize("message", ["restream: RUNNING -> STOPPING", "forged\nline\r\x1b[31m\u2028 tab\tkept"])
def test_lines_are_the_servers_format(message: str) -> None:
    entry = record(message)
    line = LineFormatter("pmdaemon-watch").format(entry)
    assert re.fullmatch(ISO + r" WARNING  pmdaemon-watch pmdaemon\.watch: .*", line)
    if "forged" in message:  # text from a service cannot start a line of its own
        assert line.endswith(": forged\\nline\\r\\x1b[31m\\u2028 tab\tkept")
    # Where lib-common is installed (the market extra), its formatter writes the same line.
    human = pytest.importorskip("lib_common.logging").HumanFormatter("pmdaemon-watch", colour=False)
    assert line == human.format(entry)


def test_setup_sends_pmdaemon_records_to_the_stream() -> None:
    stream = io.StringIO()
    setup("pmdaemon", stream=stream)
    logging.getLogger("pmdaemon.handover").info("restream: SIGHUP to pid %d", 42)
    assert re.fullmatch(ISO + r" INFO     pmdaemon pmdaemon\.handover: restream: SIGHUP to pid 42\n", stream.getvalue())
    setup("pmdaemon", stream=sys.stderr)


def test_supervisord_lines_are_rewritten_with_date_time_offset_and_level() -> None:
    line = supervisord_line("2026-12-02 08:55:00,123 WARN exited: restream@a (exit status 0; expected)\n")
    offset = datetime(2026, 12, 2, 8, 55).astimezone().isoformat()[-6:]
    head = f"2026-12-02T08:55:00.123{offset} WARNING  supervisord supervisord:"
    assert line == f"{head} exited: restream@a (exit status 0; expected)"
    assert supervisord_line("2026-12-02 08:55:00,123 CRIT x").split()[1] == "CRITICAL"
    assert supervisord_line("Traceback (most recent call last):\n") == "Traceback (most recent call last):"

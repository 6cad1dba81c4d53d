"""The event listener protocol parser, fed bytes as supervisord might split them."""

from __future__ import annotations

import pytest

from pmdaemon.protocol import ListenerParser, ProtocolError

PAYLOAD = b"processname:web groupname:web from_state:STARTING pid:42"
HEADER = (
    b"ver:3.0 server:supervisor serial:21 pool:pmdaemon-watch poolserial:10 eventname:PROCESS_STATE_RUNNING len:%d\n"
)
MESSAGE = HEADER % len(PAYLOAD) + PAYLOAD


def test_one_event_fed_byte_by_byte() -> None:
    parser = ListenerParser()
    events = [event for i in range(len(MESSAGE)) for event in parser.feed(MESSAGE[i : i + 1])]
    (event,) = events
    assert event.name == "PROCESS_STATE_RUNNING" and event.headers["serial"] == "21"
    assert event.fields == {"processname": "web", "groupname": "web", "from_state": "STARTING", "pid": "42"}


def test_two_events_in_one_read() -> None:
    tick = b"ver:3.0 eventname:TICK_5 len:15\nwhen:1201063880"
    events = ListenerParser().feed(MESSAGE + tick)
    assert [e.name for e in events] == ["PROCESS_STATE_RUNNING", "TICK_5"]
    assert events[1].fields == {"when": "1201063880"}


def test_garbage_is_an_error() -> None:
    with pytest.raises(ProtocolError, match="expected an event header"):
        ListenerParser().feed(b"hello\n")

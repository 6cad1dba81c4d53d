"""The consumer's read, lag and rate rules, fed by hand."""

from __future__ import annotations

import pytest

from lib_common.errors import BusMessageError
from lib_common.redis_bus.stream import StreamEntry, id_key, parse_entries
from servers.durable.policy import LagMonitor, Phase, RateMeter, ReadCursor
from servers.server_sql.rows import quote_row


def test_cursor_reads_the_pel_first_then_new_entries() -> None:
    cursor = ReadCursor()
    assert cursor.phase is Phase.RECOVERING and cursor.next_id() == "0" and cursor.redelivering
    cursor.delivered(["5-0", "7-1"])
    assert cursor.next_id() == "7-1"
    cursor.delivered([])
    assert cursor.phase is Phase.LIVE and cursor.next_id() == ">" and not cursor.redelivering
    cursor.delivered(["9-0"])
    assert cursor.next_id() == ">"


def test_cursor_goes_back_to_the_pel_after_a_reconnect() -> None:
    cursor = ReadCursor()
    cursor.delivered([])
    cursor.restart()
    assert cursor.next_id() == "0" and cursor.redelivering


def test_lag_warning_starts_once_and_clears() -> None:
    lag = LagMonitor(warn_ratio=0.8, retention_entries=1000)
    assert not lag.update(lag=100, pending=10, length=1000)
    assert lag.update(lag=850, pending=10, length=1000)
    assert not lag.update(lag=900, pending=10, length=1000)  # still warning, not a new start
    assert lag.warning and lag.warnings == 1
    lag.update(lag=10, pending=0, length=1000)
    assert not lag.warning and lag.ratio == pytest.approx(0.01)


def test_lag_retention_defaults_to_the_stream_length() -> None:
    lag = LagMonitor(warn_ratio=0.5)
    lag.update(lag=60, pending=0, length=100)
    assert lag.retention == 100 and lag.warning
    lag.update(lag=None, pending=0, length=100)  # Redis cannot tell the lag after a trim
    assert lag.ratio == 0.0 and not lag.warning


def test_rate_over_a_sliding_window() -> None:
    meter = RateMeter(window_s=10)
    for second in range(30):
        meter.add(float(second), 100)
    assert meter.total == 3000
    assert meter.rate(29.0) == pytest.approx(100, rel=0.05)
    assert RateMeter().rate(5.0) == 0.0


def test_stream_ids_order_numerically() -> None:
    assert id_key("10-0") > id_key("9-5") and id_key("9-10") > id_key("9-9")


def test_entries_without_a_frame_are_set_apart() -> None:
    entries, empty = parse_entries([(b"1-0", [b"symbol", b"A", b"frame", b"{}"]), (b"2-0", None), (b"3-0", [])])
    assert parse_entries([(b"4-0", [b"frame", b"{}", b"symbol", b"B", b"x", b"y"])])[0] == [
        StreamEntry("4-0", "B", b"{}")
    ]
    assert entries == [StreamEntry("1-0", "A", b"{}")] and empty == ["2-0", "3-0"]


def test_quote_row_checks_types_and_keeps_extras() -> None:
    frame = b'{"type":"quote","symbol":"AAPL","price":189,"ts_upstream":1,"ts_library_in":2,"rating":"fear"}'
    row = quote_row(StreamEntry("1-0", "AAPL", frame, "ep:3"))
    assert row[:4] == ("1-0", "ep:3", "AAPL", 189.0) and row[-1] == '{"rating":"fear"}'
    assert row[6] is None  # day_volume left out: NULL, not invented
    assert row[10:13] == (1, 2, None)  # ts_upstream, ts_library_in, and no ts_library_out
    assert quote_row(StreamEntry("1-1", "AAPL", frame))[1] is None  # an older publisher: no quote id
    q = '{"type":"quote","symbol":"A","ts_upstream":1,"ts_library_in":2,'
    for bad in (
        q + '"price":"1"}',
        q + '"day_volume":1.5}',
        q + '"price":NaN}',
        '{"type":"quote","symbol":"A","ts_upstream":1.5,"ts_library_in":2}',
        '{"type":"quote","symbol":"A","ts_library_in":2}',
        q + '"day_volume":9223372036854775808}',
        "[1]",
        "nope",
        '{"price":1}',
    ):
        with pytest.raises(BusMessageError):
            quote_row(StreamEntry("2-0", "A", bad.encode()))

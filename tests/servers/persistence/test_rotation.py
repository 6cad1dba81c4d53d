"""The NY-day rotation policy and the log files, driven by a manual clock (no Redis)."""

from __future__ import annotations

import asyncio
import gzip
import json
from datetime import date
from pathlib import Path

from lib_common.clock import ManualClock
from lib_common.redis_bus.stream import StreamEntry
from servers.server_log.files import LogSink, ndjson_line
from servers.server_log.resends import Resends
from servers.server_log.rotation import RotationPolicy, file_name, ny_date, ny_midnight_after, parse_file_name

# 2025-11-21 23:59:00 in New York (EST, UTC-5) = 2025-11-22 04:59:00 UTC
BEFORE_MIDNIGHT = 1_763_787_540_000_000
MIDNIGHT = ny_midnight_after(date(2025, 11, 21))


def test_ny_date_and_midnight() -> None:
    assert MIDNIGHT == 1_763_787_600_000_000
    assert ny_date(BEFORE_MIDNIGHT) == date(2025, 11, 21) and ny_date(MIDNIGHT) == date(2025, 11, 22)
    # DST: the day that ends at the spring-forward Sunday's midnight is 24 h, the Sunday 23 h
    assert ny_midnight_after(date(2025, 3, 9)) - ny_midnight_after(date(2025, 3, 8)) == 23 * 3600 * 10**6


def test_days_close_after_the_grace() -> None:
    policy = RotationPolicy(grace_s=60)
    day = date(2025, 11, 21)
    assert not policy.is_closed(day, MIDNIGHT + 59_000_000)
    assert policy.is_closed(day, MIDNIGHT + 60_000_000)
    assert policy.seconds_until_close(day, MIDNIGHT) == 60
    # within the grace a quote stamped before midnight still goes to its own day ...
    assert policy.day_for(BEFORE_MIDNIGHT, MIDNIGHT + 30_000_000) == (day, False)
    # ... after it, to the oldest open day, counted as late
    assert policy.day_for(BEFORE_MIDNIGHT, MIDNIGHT + 61_000_000) == (date(2025, 11, 22), True)


def test_file_names() -> None:
    day = date(2025, 1, 2)
    assert file_name(day) == "quotes-2025-01-02.ndjson" and file_name(day, True) == "quotes-2025-01-02.ndjson.gz"
    assert parse_file_name("quotes-2025-01-02.ndjson.gz") == (day, True)
    assert parse_file_name("quotes-2025-01-02.ndjson.gz.tmp") is None


def entry(seq: int, ts: int) -> StreamEntry:
    frame = json.dumps(
        {"type": "quote", "symbol": "AAPL", "price": 1.5, "ts_upstream": ts, "ts_library_in": ts + 5}
    ).encode()
    return StreamEntry(f"{ts // 1000}-{seq}", "AAPL", frame)


def read_ids(path: Path) -> list[str]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as f:
        return [json.loads(line)["stream_id"] for line in f]


def opened(directory: Path, clock: ManualClock, policy: RotationPolicy | None = None) -> LogSink:
    """A LogSink on `directory`, opened (its recovery done), as server_log starts one."""
    sink = LogSink(directory, clock, policy)
    asyncio.run(sink.open())
    return sink


def test_line_keeps_the_frame_and_adds_the_id() -> None:
    e = StreamEntry("1-2", "A", b'{"type":"quote","symbol":"A"}')
    assert ndjson_line(e) == b'{"stream_id":"1-2","type":"quote","symbol":"A"}\n'
    assert ndjson_line(StreamEntry("1-3", "A", b"{}")) == b'{"stream_id":"1-3"}\n'
    multi = StreamEntry("1-4", "A", b'{\n "symbol": "A"\n}')
    assert ndjson_line(multi) == b'{"stream_id":"1-4","symbol":"A"}\n'
    stamped = StreamEntry("1-5", "A", b'{"type":"quote"}', "ep:7")
    assert ndjson_line(stamped) == b'{"stream_id":"1-5","quote_id":"ep:7","type":"quote"}\n'


def test_resends_are_known_by_their_seq_per_epoch() -> None:
    resends = Resends()
    assert [resends.note(q) for q in ("a:1", "a:2", "b:0", "a:2", "a:1", "b:0", "a:3", None, "junk", "x:²")] == [
        True,
        True,
        True,
        False,
        False,
        False,
        True,
        True,
        True,
        True,
    ]
    assert resends.epochs == 2


def test_a_resent_frame_is_written_once_across_a_restart(tmp_path: Path) -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    frames = [entry(i, BEFORE_MIDNIGHT + i).frame for i in range(6)]
    first = opened(tmp_path, clock)
    # the publisher's connection dropped after 3 of a batch of 4 reached the stream
    asyncio.run(first.write([StreamEntry(f"1-{i}", "S", frames[i], f"ep:{i}") for i in range(3)], False))
    asyncio.run(first.close())
    second = opened(tmp_path, clock)  # server_log restarted meanwhile: it learns from the file
    resent = [StreamEntry(f"2-{i}", "S", frames[i], f"ep:{i}") for i in range(6)]
    result = asyncio.run(second.write(resent, redelivered=False))
    assert (result.written, result.duplicates) == (3, 3)
    path = tmp_path / "quotes-2025-11-21.ndjson"
    quote_ids = [json.loads(line)["quote_id"] for line in path.read_bytes().splitlines()]
    assert quote_ids == [f"ep:{i}" for i in range(6)]
    asyncio.run(second.close())


def test_midnight_closes_and_gzips_the_day(tmp_path: Path) -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    sink = opened(tmp_path, clock, RotationPolicy(grace_s=30))
    before = [entry(i, BEFORE_MIDNIGHT + i) for i in range(5)]
    after = [entry(i, MIDNIGHT + i) for i in range(5, 8)]
    asyncio.run(sink.write([*before, *after], redelivered=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quotes-2025-11-21.ndjson", "quotes-2025-11-22.ndjson"]
    clock.advance(60 + 29)  # 29 s past midnight: still in the grace
    asyncio.run(sink.maintain())
    assert (tmp_path / "quotes-2025-11-21.ndjson").exists()
    clock.advance(2)
    asyncio.run(sink.maintain())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quotes-2025-11-21.ndjson.gz", "quotes-2025-11-22.ndjson"]
    assert read_ids(tmp_path / "quotes-2025-11-21.ndjson.gz") == [e.id for e in before]
    assert read_ids(tmp_path / "quotes-2025-11-22.ndjson") == [e.id for e in after]
    late = entry(9, BEFORE_MIDNIGHT + 9)
    asyncio.run(sink.write([late], redelivered=False))  # a closed file is never reopened
    assert read_ids(tmp_path / "quotes-2025-11-22.ndjson")[-1] == late.id and sink.late == 1
    asyncio.run(sink.close())


def test_recovery_cuts_a_torn_line_and_skips_what_it_wrote(tmp_path: Path) -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    batch = [entry(i, BEFORE_MIDNIGHT + i) for i in range(6)]
    first = opened(tmp_path, clock)
    asyncio.run(first.write(batch[:4], redelivered=False))
    asyncio.run(first.close())
    path = tmp_path / "quotes-2025-11-21.ndjson"
    with path.open("ab") as f:  # the crash cut the fifth line short
        f.write(ndjson_line(batch[4])[:12])
    second = opened(tmp_path, clock)
    result = asyncio.run(second.write(batch, redelivered=True))  # the whole batch comes again
    assert (result.written, result.duplicates) == (2, 4)
    assert read_ids(path) == [e.id for e in batch]
    asyncio.run(second.close())


def test_recovery_finishes_an_interrupted_close(tmp_path: Path) -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    sink = opened(tmp_path, clock, RotationPolicy(grace_s=0))
    batch = [entry(i, BEFORE_MIDNIGHT + i) for i in range(3)]
    asyncio.run(sink.write(batch, redelivered=False))
    asyncio.run(sink.close())
    (tmp_path / "quotes-2025-11-21.ndjson.gz.tmp").write_bytes(b"half a gzip")
    clock.advance(120)  # the day ended while the server was down
    again = opened(tmp_path, clock, RotationPolicy(grace_s=0))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["quotes-2025-11-21.ndjson.gz"]
    # a redelivered entry of the closed day is found in the archive, not written again
    result = asyncio.run(again.write(batch[2:], redelivered=True))
    assert result.duplicates == 1 and not (tmp_path / "quotes-2025-11-22.ndjson").exists()
    assert read_ids(tmp_path / "quotes-2025-11-21.ndjson.gz") == [e.id for e in batch]


def test_an_entry_not_in_the_bus_format_is_counted_not_written(tmp_path: Path) -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    sink = opened(tmp_path, clock)
    no_stamp = StreamEntry("1-0", "AAPL", b'{"type":"quote","symbol":"AAPL","ts_upstream":1}')
    nan = StreamEntry("1-1", "AAPL", b'{"type":"quote","symbol":"A","ts_upstream":1,"ts_library_in":2,"price":NaN}')
    result = asyncio.run(sink.write([no_stamp, nan, entry(2, BEFORE_MIDNIGHT)], redelivered=False))
    assert (result.written, result.malformed) == (1, 2)
    assert read_ids(tmp_path / "quotes-2025-11-21.ndjson") == [entry(2, BEFORE_MIDNIGHT).id]
    asyncio.run(sink.close())


# ── a stream spread over shards: ids and seqs compare within a shard only ──────────────────


def sharded(ms: int, seq: int, shard: int, quote_seq: int | None = None) -> StreamEntry:
    """Shard `shard`'s entry `ms-seq` as the consumer hands it over (`MS-SEQ@S`)."""
    plain = entry(seq, BEFORE_MIDNIGHT + ms)
    quote_id = None if quote_seq is None else f"ep:{quote_seq}"
    return StreamEntry(f"{ms}-{seq}@{shard}", plain.symbol, plain.frame, quote_id)


def test_each_shards_redelivery_is_checked_against_its_own_last_id(tmp_path: Path) -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    first = LogSink(tmp_path, clock)
    asyncio.run(first.open())
    asyncio.run(first.write([sharded(9, i, 0) for i in range(3)], False))  # shard 0: written, acked
    # shard 1's batch, with lower ids than shard 0's (its master's clock): written, then a crash
    # before its ack; shard 0's next entries were read and not written
    asyncio.run(first.write([sharded(5, i, 1) for i in range(3)], False))
    asyncio.run(first.close())
    second = LogSink(tmp_path, clock)
    asyncio.run(second.open())
    shard0 = asyncio.run(second.write([sharded(9, i, 0) for i in range(3, 5)], redelivered=True))
    shard1 = asyncio.run(second.write([sharded(5, i, 1) for i in range(4)], redelivered=True))
    assert (shard0.written, shard0.duplicates) == (2, 0)  # above shard 1's last id (5-2): still new
    assert (shard1.written, shard1.duplicates) == (1, 3)  # shard 0's lines since change nothing
    assert read_ids(tmp_path / "quotes-2025-11-21.ndjson") == [
        *(f"9-{i}@0" for i in range(3)),
        *(f"5-{i}@1" for i in range(3)),
        "9-3@0",
        "9-4@0",
        "5-3@1",
    ]
    asyncio.run(second.close())


def test_a_shard_read_later_with_older_seqs_is_no_resend(tmp_path: Path) -> None:
    clock = ManualClock(BEFORE_MIDNIGHT)
    first = LogSink(tmp_path, clock)
    asyncio.run(first.open())
    # one publisher's batch: seqs 0-5, symbols on two shards; shard 1 is read first
    asyncio.run(first.write([sharded(1, i, 1, quote_seq=q) for i, q in enumerate((3, 4, 5))], False))
    result = asyncio.run(first.write([sharded(1, i, 0, quote_seq=q) for i, q in enumerate((0, 1, 2))], False))
    assert (result.written, result.duplicates) == (3, 0)
    asyncio.run(first.close())
    second = LogSink(tmp_path, clock)  # the seqs per shard learned again from the file
    asyncio.run(second.open())
    # the publisher's reconnect sent the batch again: every copy known on its own shard
    again = [sharded(2, i, 0, quote_seq=q) for i, q in enumerate((0, 1, 2, 6))]
    again += [sharded(2, i, 1, quote_seq=q) for i, q in enumerate((3, 4, 5, 7))]
    result = asyncio.run(second.write(again, redelivered=False))
    assert (result.written, result.duplicates) == (2, 6)
    path = tmp_path / "quotes-2025-11-21.ndjson"
    quote_ids = [json.loads(line)["quote_id"] for line in path.read_bytes().splitlines()]
    assert quote_ids == [f"ep:{q}" for q in (3, 4, 5, 0, 1, 2, 6, 7)]
    asyncio.run(second.close())


def test_resends_keep_the_highest_seq_per_shard() -> None:
    resends = Resends()
    assert [resends.note("a:9", "0"), resends.note("a:5", "1"), resends.note("a:5", "0"), resends.note("a:5", "1")] == [
        True,
        True,
        False,
        False,
    ]
    assert resends.epochs == 1

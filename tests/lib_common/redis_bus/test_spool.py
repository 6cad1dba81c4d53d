"""The publisher's spool: its record format (sans-I/O) and its segment files on a real file
system, including what a crash or a bad disk leaves behind."""

from __future__ import annotations

import logging
import zlib
from pathlib import Path

import pytest

from lib_common.redis_bus.buffer import Outgoing
from lib_common.redis_bus.spool import Spool
from lib_common.redis_bus.spool_format import HEADER, MAGIC, MAX_RECORD, decode_body, encode_record, split_records

pytestmark = pytest.mark.asyncio


def record(i: int, size: int = 40) -> Outgoing:
    return Outgoing(b"ep:%d" % i, f"SYM{i % 3}", (b'{"n":%d}' % i).ljust(size, b" "))


# ── the format ──────────────────────────────────────────────────────────────────────────────


async def test_records_round_trip_and_an_incomplete_one_says_how_long_it_is() -> None:
    blob = b"".join(encode_record(record(i)) for i in range(3))
    whole = split_records(blob, 10)
    assert whole.records == [record(i) for i in range(3)] and whole.consumed == len(blob)
    assert whole.needed == 0 and whole.corrupt is None
    cut = split_records(blob[:-5], 10)  # a torn last record
    assert cut.records == [record(0), record(1)] and cut.corrupt is None
    assert cut.needed == len(encode_record(record(2))) and cut.consumed == len(blob) - cut.needed
    assert split_records(blob[:3], 10).needed == HEADER.size  # not even a whole header
    assert split_records(blob, 2).records == [record(0), record(1)]  # at most `most`


async def test_a_bad_checksum_a_huge_length_or_a_bad_body_is_corrupt_not_read() -> None:
    good = encode_record(record(1))
    flipped = bytearray(good)
    flipped[-1] ^= 0x01
    split = split_records(good + bytes(flipped) + good, 10)
    assert split.records == [record(1)] and split.consumed == len(good)
    assert split.corrupt == "record checksum does not match"
    huge = HEADER.pack(MAX_RECORD + 1, 0) + b"x" * 10
    assert split_records(huge, 10).corrupt == f"record length {MAX_RECORD + 1} over the limit of {MAX_RECORD}"
    body = b"\x00\x09ab"  # says 9 bytes of quote id, holds 2
    assert "shorter" in str(split_records(HEADER.pack(len(body), zlib.crc32(body)) + body, 10).corrupt)
    with pytest.raises(Exception, match="shorter"):
        decode_body(body)
    with pytest.raises(ValueError, match="at most"):
        encode_record(Outgoing(b"e:1", "A", b"x" * MAX_RECORD))


# ── the files ───────────────────────────────────────────────────────────────────────────────


async def drain(spool: Spool, most: int = 1000) -> list[Outgoing]:
    out: list[Outgoing] = []
    while batch := await spool.read(most):
        out += batch
        spool.commit()
    return out


def segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.spool"))


async def test_records_come_back_in_order_across_segments_which_are_deleted_once_sent(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20, segment_bytes=1000)
    spool.open()
    assert spool.empty
    assert spool.append([record(i) for i in range(100)]) == 100
    assert not spool.empty and len(segments(tmp_path)) > 5
    first = await spool.read(10)
    spool.rewind()  # lost with the connection: read again
    assert await spool.read(10) == first == [record(i) for i in range(10)]
    spool.commit()
    assert await drain(spool, 7) == [record(i) for i in range(10, 100)]
    assert spool.empty and spool.drained == 100 and len(segments(tmp_path)) <= 1
    await spool.close()


async def test_the_size_limit_takes_what_fits_and_a_restart_reads_everything_back(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 64 * 1024, segment_bytes=8 * 1024)
    spool.open()
    taken = spool.append([record(i, size=500) for i in range(200)])
    assert 100 < taken < 200 and spool.bytes <= 64 * 1024
    spool.flush()  # appends are buffered writes: the files have it all once flushed
    assert sum(p.stat().st_size for p in segments(tmp_path)) == spool.bytes
    assert spool.append([record(999, size=500)]) == 0  # full
    await spool.close()

    again = Spool(tmp_path, 64 * 1024, segment_bytes=8 * 1024)
    again.open()
    assert again.bytes == spool.bytes
    assert await drain(again) == [record(i, size=500) for i in range(taken)]
    again.append([record(1000)])  # a restart writes a segment of its own
    assert await drain(again) == [record(1000)]
    await again.close()


async def test_a_torn_last_record_is_dropped_and_the_rest_is_read(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path, 1 << 20, segment_bytes=1 << 16)
    spool.open()
    spool.append([record(i) for i in range(5)])
    await spool.close()
    (path,) = segments(tmp_path)
    with path.open("r+b") as f:  # a crash in the middle of writing the last record
        f.truncate(path.stat().st_size - 7)

    again = Spool(tmp_path, 1 << 20)
    again.open()
    with caplog.at_level(logging.WARNING):
        assert await drain(again) == [record(i) for i in range(4)]
    assert again.torn == 1 and "torn last record" in caplog.text
    assert segments(tmp_path) == []
    await again.close()


async def test_a_corrupt_record_drops_the_rest_of_its_segment_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    size = len(encode_record(record(0)))
    spool = Spool(tmp_path, 1 << 20, segment_bytes=len(MAGIC) + 4 * size)  # 4 records a segment
    spool.open()
    spool.append([record(i) for i in range(8)])
    await spool.close()
    first, _ = segments(tmp_path)  # two segments: the second is untouched
    data = bytearray(first.read_bytes())
    data[len(MAGIC) + size + HEADER.size + 3] ^= 0xFF  # inside record 1's body
    first.write_bytes(bytes(data))

    again = Spool(tmp_path, 1 << 20)
    again.open()
    with caplog.at_level(logging.WARNING):
        assert await drain(again) == [record(0), *(record(i) for i in range(4, 8))]
    assert again.corrupt_bytes == 3 * size and "checksum" in caplog.text
    await again.close()


async def test_a_file_that_is_not_a_segment_is_dropped(tmp_path: Path) -> None:
    (tmp_path / "0000000000000001.spool").write_bytes(b"something else entirely")
    spool = Spool(tmp_path, 1 << 20)
    spool.open()
    spool.append([record(1)])
    assert await drain(spool) == [record(1)]
    assert spool.corrupt_bytes == len(b"something else entirely")
    await spool.close()


async def test_one_spool_directory_is_one_process(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1 << 20)
    spool.open()
    with pytest.raises(OSError, match="in use by another process"):
        Spool(tmp_path, 1 << 20).open()
    await spool.close()
    after = Spool(tmp_path, 1 << 20)
    after.open()  # free again once the first has closed
    await after.close()

from __future__ import annotations

import gzip
import importlib.util
from datetime import date
from pathlib import Path

import pytest

from lib_common.ingestors.replay.sources import INFLATER, INFLATERS, LineReader, day_files

# Every inflater installed (isal with the extra, as CI has it) reads gzip'd days alike.
each_inflater = pytest.mark.parametrize("inflater", sorted(INFLATERS))


def read_all(reader: LineReader) -> list[bytes]:
    lines: list[bytes] = []
    while not reader.done:
        lines += reader.chunk()
    return lines


def test_a_directory_gives_its_day_files_in_date_order_within_the_range(tmp_path: Path) -> None:
    for name in (
        "quotes-2025-11-20.ndjson.gz",
        "quotes-2025-11-21.ndjson",
        "quotes-2025-11-22.ndjson",
        "quotes-2025-11-22.ndjson.gz",
        "notes.txt",
        "quotes-2025-13-01.ndjson",
    ):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in day_files([tmp_path])] == [
        "quotes-2025-11-20.ndjson.gz",
        "quotes-2025-11-21.ndjson",
        "quotes-2025-11-22.ndjson.gz",  # closed by server_log: the gzip is the complete one
    ]
    in_range = day_files([tmp_path], date(2025, 11, 21), date(2025, 11, 21))
    assert [p.name for p in in_range] == ["quotes-2025-11-21.ndjson"]
    other = tmp_path / "notes.txt"
    assert day_files([other, tmp_path], date(2025, 11, 22)) == [other, tmp_path / "quotes-2025-11-22.ndjson.gz"]
    with pytest.raises(FileNotFoundError):
        day_files([tmp_path / "missing"])


@each_inflater
@pytest.mark.parametrize("gzipped", [False, True])
def test_lines_plain_or_gzipped_whatever_the_name(tmp_path: Path, gzipped: bool, inflater: str) -> None:
    data = b"".join(b"line %d\n" % i for i in range(100_000)) + b"last without newline"
    path = tmp_path / "recording.ndjson"
    path.write_bytes(gzip.compress(data) + gzip.compress(b"\nsecond member") if gzipped else data)
    if gzipped:
        data += b"\nsecond member"  # a file of two gzip members (one appended to the other) reads as one
    reader = LineReader(path, inflater=inflater)
    lines = read_all(reader)
    assert reader.gzipped is gzipped
    assert lines == data.split(b"\n")
    assert reader.too_long == 0 and not reader.truncated and reader.error is None


def test_a_line_past_the_bound_is_counted_and_cut_out(tmp_path: Path) -> None:
    path = tmp_path / "long.ndjson"
    path.write_bytes(b"a\n" + b"x" * 5_000_000 + b"\nb\n" + b"y" * 300 + b"\nc\n" + b"z" * 400)
    reader = LineReader(path, max_line_bytes=256)
    assert read_all(reader) == [b"a", b"b", b"c"]
    assert reader.too_long == 3


@each_inflater
def test_a_gzip_bomb_stops_at_the_inflation_bound(tmp_path: Path, inflater: str) -> None:
    path = tmp_path / "bomb.ndjson.gz"
    path.write_bytes(gzip.compress(b"{}\n" * (20 << 20)))  # 60 MiB of lines from ~60 KB
    reader = LineReader(path, max_bytes=1 << 20, inflater=inflater)
    lines = read_all(reader)
    assert reader.truncated and reader.bytes_read == 1 << 20
    assert len(lines) <= (1 << 20) // 3 + 1


@each_inflater
@pytest.mark.parametrize("damage", ["cut", "garbled", "bad header"])
def test_a_damaged_gzip_keeps_what_came_and_says_why(tmp_path: Path, inflater: str, damage: str) -> None:
    whole = gzip.compress(b"".join(b"line %d\n" % i for i in range(200_000)))
    middle = len(whole) // 2
    damaged = {
        "cut": whole[:middle],
        "garbled": whole[:middle] + bytes(64) + whole[middle + 64 :],  # zlib's and isal's own errors
        "bad header": whole[:2] + b"\x00" + whole[3:],  # compression method 0
    }[damage]
    path = tmp_path / "damaged.ndjson.gz"
    path.write_bytes(damaged)
    reader = LineReader(path, inflater=inflater)
    lines = read_all(reader)
    assert len(lines) < 200_000 and reader.error is not None and reader.done
    if damage != "bad header":
        assert lines and lines[0] == b"line 0"


def test_the_fastest_inflater_installed_is_the_default() -> None:
    expected = "isal" if importlib.util.find_spec("isal") else "zlib"
    assert expected == INFLATER

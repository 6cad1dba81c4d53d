"""server_sql's COPY text: whatever bytes a symbol or frame holds, PostgreSQL reads back the
same values (NUL, which text cannot hold, is dropped), whether the batch takes the plain path
or needs escapes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lib_common.redis_bus.stream import StreamEntry
from servers.server_sql.writer import copy_text

_UNESCAPE = {b"t": b"\t", b"n": b"\n", b"r": b"\r", b"\\": b"\\"}


def read_copy_text(blob: bytes) -> list[list[bytes | None]]:
    """COPY FROM's text format, as PostgreSQL parses it: rows end at a raw newline, fields at a
    raw tab, a field that is `\\N` is NULL, and a backslash escapes the next byte."""
    assert blob == b"" or blob.endswith(b"\n")
    rows = []
    for line in blob.split(b"\n")[:-1]:
        fields: list[bytes | None] = []
        for field in line.split(b"\t"):
            if field == b"\\N":
                fields.append(None)
                continue
            out, i = bytearray(), 0
            while i < len(field):
                if field[i : i + 1] == b"\\":
                    out += _UNESCAPE.get(field[i + 1 : i + 2], field[i + 1 : i + 2])
                    i += 2
                else:
                    out += field[i : i + 1]
                    i += 1
            fields.append(bytes(out))
        rows.append(fields)
    return rows


awkward = st.binary(max_size=30) | st.sampled_from([b'{"a":"\\u00e9"}', b"a\tb", b"x\ny", b"\r", b"\x00", b"\\"])
symbols = st.text(max_size=8) | st.sampled_from(["AAPL", "A\tB", "BRK\\B"])
quote_ids = st.none() | st.text(max_size=8) | st.sampled_from(["ab12:7", "\\N", "a\tb", "x\\y"])


@given(st.lists(st.tuples(symbols, awkward, quote_ids), max_size=20))
def test_every_value_reads_back_as_it_was(items: list[tuple[str, bytes, str | None]]) -> None:
    entries = [StreamEntry(f"{n}-0", symbol, frame, qid) for n, (symbol, frame, qid) in enumerate(items)]
    assert read_copy_text(copy_text(entries)) == [
        [
            e.id.encode(),
            None if e.quote_id is None else e.quote_id.encode().replace(b"\x00", b""),
            e.symbol.encode().replace(b"\x00", b""),
            e.frame.replace(b"\x00", b""),
        ]
        for e in entries
    ]


def test_a_plain_batch_goes_as_it_came() -> None:
    entries = [StreamEntry("1-0", "AAPL", b'{"price":1.5}', "e:1"), StreamEntry("1-1", "MSFT", b"{}")]
    assert copy_text(entries) == b'1-0\te:1\tAAPL\t{"price":1.5}\n1-1\t\\N\tMSFT\t{}\n'

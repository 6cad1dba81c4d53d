"""The spool's bytes: segment files of length-prefixed, checksummed records (sans-I/O).

    segment = MAGIC record*
    record  = length:u32be crc32(body):u32be body          length = len(body) <= MAX_RECORD
    body    = id_len:u16be quote_id  symbol_len:u16be symbol(UTF-8)  payload

A segment is only ever appended to, so a crash can leave at most its last record torn: fewer
bytes than the header says. A reader takes whole records and stops at the first that cannot be
right (a length over MAX_RECORD, a checksum that does not match, a body whose inner lengths do
not add up): what follows it in that segment is not trusted. Reading never takes more than one
record's header and MAX_RECORD bytes on the word of a length field.
"""

from __future__ import annotations

import struct
import zlib
from typing import NamedTuple

from lib_common.redis_bus.buffer import Outgoing

MAGIC = b"RSDEV-SPOOL-1\n"
HEADER = struct.Struct(">II")
_SHORT = struct.Struct(">H")
MAX_RECORD = 1 << 20  # a quote frame is a few hundred bytes; anything near this is not one


class SpoolCorrupt(Exception):
    """Bytes that are not a record: the rest of the segment is dropped."""


def encode_record(record: Outgoing) -> bytes:
    quote_id, symbol, payload = record
    name = symbol.encode()
    body = b"".join((_SHORT.pack(len(quote_id)), quote_id, _SHORT.pack(len(name)), name, payload))
    if len(body) > MAX_RECORD or len(quote_id) > 0xFFFF or len(name) > 0xFFFF:
        raise ValueError(f"a spool record holds at most {MAX_RECORD} bytes, got {len(body)}")
    return HEADER.pack(len(body), zlib.crc32(body)) + body


def decode_body(body: bytes) -> Outgoing:
    """The record a checksummed body holds; SpoolCorrupt when its inner lengths do not add up."""
    at = 0
    fields: list[bytes] = []
    for _ in range(2):  # quote id, symbol
        if len(body) < at + _SHORT.size:
            raise SpoolCorrupt("record body shorter than its fields")
        (length,) = _SHORT.unpack_from(body, at)
        at += _SHORT.size
        if len(body) < at + length:
            raise SpoolCorrupt("record body shorter than its fields")
        fields.append(body[at : at + length])
        at += length
    try:
        symbol = fields[1].decode()
    except UnicodeDecodeError:
        raise SpoolCorrupt("record symbol is not UTF-8") from None
    return Outgoing(fields[0], symbol, body[at:])


class Split(NamedTuple):
    records: list[Outgoing]  # whole records from the start of the data
    consumed: int  # the bytes they take
    needed: int  # bytes the next record needs in all, header included (0: none started)
    corrupt: str | None  # why the bytes at `consumed` are not a record; nothing after is trusted


def split_records(data: bytes | memoryview, most: int) -> Split:
    """Up to `most` whole records from the start of `data`, stopping at an incomplete one
    (`needed` says how long it is) or one that cannot be right (`corrupt`)."""
    view = memoryview(data)
    records: list[Outgoing] = []
    at = 0
    while len(records) < most:
        if len(view) - at < HEADER.size:
            return Split(records, at, HEADER.size if len(view) > at else 0, None)
        length, crc = HEADER.unpack_from(view, at)
        if length > MAX_RECORD:
            return Split(records, at, 0, f"record length {length} over the limit of {MAX_RECORD}")
        end = at + HEADER.size + length
        if end > len(view):
            return Split(records, at, HEADER.size + length, None)
        body = bytes(view[at + HEADER.size : end])
        if zlib.crc32(body) != crc:
            return Split(records, at, 0, "record checksum does not match")
        try:
            records.append(decode_body(body))
        except SpoolCorrupt as exc:
            return Split(records, at, 0, str(exc))
        at = end
    return Split(records, at, 0, None)

"""Recorded lines → quotes to re-stamp → frames: plain code, no I/O.

A line is a quote frame as restream dispatched it, the way server_log writes it (its
`stream_id` and `quote_id` first) or without them (a client's own recording). Lines come from
files that may be damaged or hostile, so each is checked; one that is not a quote is counted by
reason (not_json, not_quote, bad_field) and skipped.

Two paths, one meaning. Most lines are in the exact compact layout restream's `Frame.quote`
writes: `FAST` matches only that layout, with every value in the subset of JSON whose meaning
is unambiguous (printable ASCII strings without escapes, finite numbers of bounded size,
integers within 64 bits, a known `market_hours`, each key at most once and in a fixed order,
no other keys), so such a line is re-stamped by slicing its bytes, with no JSON parsing: that
is what makes a replay fast (docs/replay.md). Every other line goes through the bus's one
validated decoder (`redis_bus.format.decode_quote_frame`) and is encoded afresh.

A `Recorded` is a plain tuple (symbol, ts_upstream, recorded_us, body), cheaper than any
object on a path taken millions of times a replay: `body` is the frame's text from `"type"`
through ts_upstream's digits (the fast path) or the decoded Quote; `recorded_us` is when the
recording gateway received it (its ts_library_in), the replay's pace.

`frames` re-stamps a batch: the stamps after ts_upstream are one suffix for every quote that
shares its ts_library_in (at speed 0 the whole batch), so a fast-path frame is the body and that
suffix joined, no number formatted, and its WebSocket header is looked up by length.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Iterable
from dataclasses import replace
from itertools import repeat

from lib_common.core.frame import Frame
from lib_common.core.quote import Quote
from lib_common.core.wsframe import text_header
from lib_common.errors import BusMessageError
from lib_common.redis_bus.format import decode_quote_frame

Recorded = tuple[str, int, int, bytes | Quote]

# Keys server_log puts before the frame: who wrote the line, not part of the quote.
LOG_KEYS = frozenset(("stream_id", "quote_id"))

# Possessive and atomic throughout: each optional part begins with its own key, so there is
# never anything to backtrack into (and a line that does not match fails in one pass).
_CHARS = rb"[ !#-\[\]-~]"  # printable ASCII but the quote and the backslash
_STR = rb'"' + _CHARS + rb'*+"'
_NUM = rb"-?+(?:0|[1-9][0-9]{0,19}+)(?:\.[0-9]{1,20}+)?+(?:[eE][-+]?+[0-9]{1,2}+)?+"
_INT = rb"-?+(?:0|[1-9][0-9]{0,17}+)"  # at most 18 digits: always a 64-bit integer
# ts_upstream is sent as recorded, so its digits must be what `%d` writes: no "-0".
_TS = rb"(?:0|-?+[1-9][0-9]{0,17}+)"
FAST = re.compile(
    rb'\{(?:"stream_id":' + _STR + rb",)?+(?:\"quote_id\":" + _STR + rb",)?+"
    rb'("type":"quote","symbol":"(' + _CHARS + rb'++)"'
    rb'(?:,"price":' + _NUM + rb")?+"
    rb'(?:,"change":' + _NUM + rb")?+"
    rb'(?:,"change_percent":' + _NUM + rb")?+"
    rb'(?:,"day_volume":' + _INT + rb")?+"
    rb'(?:,"market_hours":"(?:pre|regular|post|extended|overnight|closed)")?+'
    rb'(?:,"currency":' + _STR + rb")?+"
    rb'(?:,"exchange":' + _STR + rb")?+"
    rb',"ts_upstream":(' + _TS + rb"))"
    rb',"ts_library_in":(' + _INT + rb")"
    rb'(?:,"ts_library_out":' + _INT + rb")?+\}"
)


def parse_lines(lines: Iterable[bytes], bad: Counter[str]) -> list[Recorded]:
    """The recorded quotes of `lines` (without newlines), in order; empty lines are passed over,
    and each that is not a quote is counted in `bad` by reason."""
    out: list[Recorded] = []
    append = out.append
    fullmatch = FAST.fullmatch
    for line in lines:
        match = fullmatch(line)
        if match is not None:
            head, symbol, ts_upstream, recorded = match.groups()
            append((symbol.decode(), int(ts_upstream), int(recorded), head))
        elif line:
            try:
                append(decoded(line))
            except BusMessageError as exc:
                bad[exc.reason] += 1
    return out


def decoded(line: bytes) -> Recorded:
    """The safe path: `line` through the bus's validated decoder (BusMessageError if it is not
    a quote), whatever its layout; the fast path must mean the same (the tests check it)."""
    quote = decode_quote_frame(line).quote
    if any(name in LOG_KEYS for name, _ in quote.extra):
        quote = replace(quote, extra=tuple((n, v) for n, v in quote.extra if n not in LOG_KEYS))
    return quote.symbol, quote.ts_upstream, quote.ts_library_in, quote


def frames(
    records: Iterable[Recorded],
    received: Iterable[int] | int,
    ts_library_out: int,
    symbols: Container[str],
    shift_us: int = 0,
) -> list[Frame]:
    """The frames a live gateway would send for the records of `symbols`: the recorded values
    and ts_upstream (moved `shift_us` later: a looped pass), ts_library_in from `received`
    (one stamp for all, or one a record), ts_library_out as given."""
    out: list[Frame] = []
    append = out.append
    stamps = repeat(received) if isinstance(received, int) else received
    headers: dict[int, bytes] = {}  # WebSocket header by payload length
    suffix, stamped = b"", None  # the stamps after ts_upstream, and the ts_library_in they carry
    for (symbol, ts_upstream, _, body), ts_in in zip(records, stamps, strict=False):  # stamps may repeat one
        if symbol not in symbols:
            continue
        if type(body) is bytes:
            if ts_in != stamped:
                suffix, stamped = b',"ts_library_in":%d,"ts_library_out":%d}' % (ts_in, ts_library_out), ts_in
            if shift_us:
                ts = ts_upstream + shift_us
                payload = b"{%b%d%b" % (body[: body.rindex(b":") + 1], ts, suffix)
            else:
                ts = ts_upstream
                payload = b"{" + body + suffix
            size = len(payload)
            header = headers.get(size)
            if header is None:
                header = headers[size] = text_header(size)
            append(Frame(symbol, payload, header + payload, ts, ts_in, ts_library_out))
        else:
            assert isinstance(body, Quote)
            ts = ts_upstream + shift_us
            append(Frame.quote(replace(body, ts_upstream=ts, ts_library_in=ts_in), ts_library_out))
    return out

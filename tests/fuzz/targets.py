"""The fuzz targets: every parser that reads bytes from outside the process.

Each takes one input as bytes. Text parsers get it decoded as UTF-8 with replacement (a
WebSocket text frame or an HTTP body that reached them is text); the byte-level decoders (Yahoo
frames, bus messages, RESP, untrusted_json) get the bytes as they are, and the text too when the
bytes are UTF-8, since their callers pass either.

Besides "only its own errors, within 100 ms" (tests/fuzz/harness.py), some targets check a
property their module promises, where one is cheap to state:

- resp: a reply fed in pieces reads the same as fed at once (the reader is incremental);
- json5: `loads` and `parse` agree on what is JSON5, and `format`'s output loads to the same
  values as its input;
- replay_lines: a line the fast path takes means what the bus's decoder reads in it, and its
  frame is the same but for the JSON's spelling (the replay's promise, docs/replay.md);
- untrusted_json: whatever it returns, `json.dumps(..., allow_nan=False)` can write (its reason
  for being: NaN, Infinity and 1e999 are refused at the door).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import json5format
from lib_common import config, untrusted_json
from lib_common.client import subscriptions
from lib_common.client.policy import ClientPolicy
from lib_common.core.client_messages import parse_client_message
from lib_common.errors import BusMessageError, ConfigError, ProtocolError
from lib_common.ingestors.replay.records import FAST, decoded, frames, parse_lines
from lib_common.ingestors.yahoo.normalise import FrameError, decode_frame
from lib_common.redis_bus.format import decode_quote_frame
from lib_common.redis_bus.resp import ProtocolViolation, ReplyReader
from servers.kit.config import ClientLimits
from servers.redis2ws.config import LOADER as REDIS2WS
from servers.restream.config import LOADER as RESTREAM
from servers.server_dummy.config import LOADER as SERVER_DUMMY
from servers.server_dummy.faults import FaultRequest, FaultRequestError
from servers.server_log.config import from_section as server_log
from servers.server_speak.app import MAX_BODY
from servers.server_speak.config import LOADER as SERVER_SPEAK
from servers.server_speak.service import parse_speak
from servers.server_sql.config import from_section as server_sql
from servers.server_yahoo.config import LOADER as SERVER_YAHOO
from tests.fuzz import seeds
from tests.fuzz.harness import Target


class PropertyBroken(AssertionError):
    """A target's own property (beyond "no other exception") did not hold."""


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _both(data: bytes, call: Callable[[str | bytes], object]) -> None:
    """`call` on the bytes, then on their text when they are UTF-8 (each may raise on its own)."""
    text = _utf8(data)
    try:
        call(data)
    finally:
        if text is not None:
            call(text)


_LIMITS = ClientLimits()


def client_message(data: bytes) -> None:
    text = _text(data)
    try:  # restream's defaults
        parse_client_message(text, max_bytes=_LIMITS.max_message_bytes, max_symbols=_LIMITS.max_per_message)
    finally:  # the largest message the config allows (limits.max_message_bytes at most 1 MiB)
        parse_client_message(text, max_bytes=1 << 20, max_symbols=_LIMITS.max_per_message)


def yahoo_frame(data: bytes) -> None:
    _both(data, lambda frame: decode_frame(frame, 0))


def _replies(data: bytes, piece: int) -> tuple[str, bool]:
    reader = ReplyReader()
    replies = []
    try:
        for start in range(0, len(data), piece):
            reader.feed(data[start : start + piece])
            replies += reader.take()
    except ProtocolViolation:
        return repr(replies + reader.take()), True
    return repr(replies), False


def resp(data: bytes) -> None:
    whole = _replies(data, max(len(data), 1))
    piece = 1 + (data[0] % 7 if data else 0)
    pieces = _replies(data, piece)
    if whole[1] != pieces[1] or (not whole[1] and whole[0] != pieces[0]):
        raise PropertyBroken(f"fed at once: {whole}; fed {piece} bytes at a time: {pieces}")


def _loaded(text: str) -> str:
    return repr(json5format.loads(text))


def json5(data: bytes) -> None:
    text = _text(data)
    try:
        value: str | None = _loaded(text)
    except json5format.ParseError:
        value = None
    try:
        json5format.parse(text)
    except json5format.ParseError as exc:
        if value is not None:
            raise PropertyBroken(f"loads read it, parse refused it: {exc}") from None
        raise
    if value is None:
        raise PropertyBroken("parse read it, loads refused it")
    formatted = json5format.format(text)
    if _loaded(formatted) != value:
        raise PropertyBroken(f"format changed the values: {formatted!r}")


_BASE_DIR = Path(tempfile.mkdtemp(prefix="fuzz-config-"))  # relative paths in a config resolve to nothing here
_LOADERS: tuple[Callable[[str], Any], ...] = (
    *(
        lambda text, loader=loader: loader.parse(text, "fuzz.json5", _BASE_DIR, env={})
        for loader in (RESTREAM, REDIS2WS, SERVER_YAHOO, SERVER_DUMMY, SERVER_SPEAK)
    ),
    *(
        lambda text, build=build: config.parse_config(text, build, source="fuzz.json5", env={}, base_dir=_BASE_DIR)
        for build in (server_sql, server_log)
    ),
)


def config_loader(data: bytes) -> None:
    text = _text(data)
    for load in _LOADERS:  # each server reads the text: one refusing it must not spare the others
        with contextlib.suppress(ConfigError):
            load(text)


def bus_quote(data: bytes) -> None:
    _both(data, decode_quote_frame)


class _Everything:
    def __contains__(self, symbol: object) -> bool:
        return True


def replay_lines(data: bytes) -> None:
    lines = data.split(b"\n")  # a chunk as LineReader gives it
    bad: Counter[str] = Counter()
    frames(parse_lines(lines, bad), 5, 7, _Everything())
    for line in lines:
        if FAST.fullmatch(line) is None:
            continue
        try:
            safe = decoded(line)
        except BusMessageError as exc:
            raise PropertyBroken(f"the fast path took a line the decoder refuses ({exc.reason})") from None
        (fast,) = parse_lines([line], Counter())
        if fast[:3] != safe[:3]:
            raise PropertyBroken(f"the fast path read {fast[:3]}, the decoder {safe[:3]}")
        (quick,) = frames([fast], 5, 7, _Everything())
        (slow,) = frames([safe], 5, 7, _Everything())
        if json.loads(quick.payload) != json.loads(slow.payload):
            raise PropertyBroken("the fast path's frame says other than the decoder's")


def untrusted(data: bytes) -> None:
    for check_floats in (True, False):
        value = untrusted_json.loads(data, check_floats=check_floats)
        if check_floats:
            try:
                json.dumps(value, allow_nan=False)
            except ValueError as exc:
                raise PropertyBroken(f"loads returned what JSON cannot carry: {exc}") from None


def speak_body(data: bytes) -> None:
    if len(data) > MAX_BODY:  # server_speak answers 413 before parsing
        return
    parse_speak(untrusted_json.loads(data))


_CLIENTS = tuple(
    ClientPolicy("fuzz", dialect=dialect, monotonic=lambda: 0.0)
    for dialect in (subscriptions.RESTREAM, subscriptions.REDIS2WS)
)  # kept across inputs: the de-duplication state builds up as it does on a long connection


def client_frame(data: bytes) -> None:
    for client in _CLIENTS:
        for frame in (data, _utf8(data)):
            if frame is None:
                continue
            given = client.receive(frame)
            if given is not None and type(given) is not dict:
                raise PropertyBroken(f"receive gave the user a {type(given).__name__}, not a frame")


def fault_body(data: bytes) -> None:
    FaultRequest.parse(untrusted_json.loads(data))


TARGETS: dict[str, Target] = {
    t.name: t
    for t in (
        Target(
            "client_message",
            client_message,
            (ProtocolError,),
            lambda: [*seeds.HOSTILE, *seeds.client_messages()],
            "lib_common.core.client_messages.parse_client_message (restream's WebSocket messages)",
        ),
        Target(
            "yahoo_frame",
            yahoo_frame,
            (FrameError,),
            lambda: [*seeds.HOSTILE, *seeds.yahoo_frames()],
            "lib_common.ingestors.yahoo.normalise.decode_frame (a streamer frame to a Quote)",
        ),
        Target(
            "resp",
            resp,
            (),  # ProtocolViolation is caught inside: the target compares how far each reading got
            lambda: [*seeds.HOSTILE, *seeds.resp_replies()],
            "lib_common.redis_bus.resp.ReplyReader (RESP from Redis, through hiredis)",
        ),
        Target(
            "json5",
            json5,
            (json5format.ParseError,),
            lambda: [*seeds.HOSTILE, *seeds.config_samples()],
            "json5format.loads, parse and format",
        ),
        Target(
            "config",
            config_loader,
            (ConfigError,),
            lambda: [*seeds.HOSTILE, *seeds.config_samples()],
            "lib_common.config.parse_config with every server's build (restream, redis2ws, server_yahoo, "
            "server_dummy, server_speak, server_sql, server_log)",
        ),
        Target(
            "bus_quote",
            bus_quote,
            (BusMessageError,),
            lambda: [*seeds.HOSTILE, *seeds.bus_frames()],
            "lib_common.redis_bus.format.decode_quote_frame (quotes on Redis)",
        ),
        Target(
            "client_frame",
            client_frame,
            (),  # a frame the client cannot use is counted (bad_frames), never raised
            lambda: [*seeds.HOSTILE, *seeds.server_frames(), *seeds.bus_frames()],
            "lib_common.client.policy.ClientPolicy.receive (what a server sends the client library)",
        ),
        Target(
            "replay_lines",
            replay_lines,
            (),  # a line that is not a quote is counted by reason and skipped, never raised
            lambda: [*seeds.HOSTILE, *seeds.bus_frames(), b"\n".join(seeds.bus_frames())],
            "lib_common.ingestors.replay.records.parse_lines and frames (recorded day files)",
        ),
        Target(
            "untrusted_json",
            untrusted,
            (untrusted_json.BadJSON,),
            lambda: [*seeds.HOSTILE, *seeds.bus_frames(), *seeds.client_messages(), *seeds.http_bodies()],
            "lib_common.untrusted_json.loads",
        ),
        Target(
            "speak_body",
            speak_body,
            (ValueError,),  # what server_speak answers 400 to (BadJSON is one)
            lambda: [*seeds.HOSTILE, *seeds.http_bodies()],
            "server_speak's POST /speak body: untrusted_json.loads then parse_speak",
        ),
        Target(
            "fault_body",
            fault_body,
            (untrusted_json.BadJSON, FaultRequestError),
            lambda: [*seeds.HOSTILE, *seeds.http_bodies()],
            "server_dummy's POST /fault body: untrusted_json.loads then FaultRequest.parse",
        ),
    )
}

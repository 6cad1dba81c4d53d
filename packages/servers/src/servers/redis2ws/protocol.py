"""redis2ws's client → server messages, parsed without I/O.

    {"op": "subscribe",    "channels": ["rsdev:quote:AAPL"]}
    {"op": "unsubscribe",  "channels": ["rsdev:quote:AAPL"]}
    {"op": "psubscribe",   "patterns": ["rsdev:quote:*"]}
    {"op": "punsubscribe", "patterns": ["rsdev:quote:*"]}
    {"op": "ping"}

Server → client: {"type": "subscribed" | "unsubscribed", "channels": [...]},
{"type": "psubscribed" | "punsubscribed", "patterns": [...]}, {"type": "pong"},
{"type": "error", "code", "message"}, and the data:
{"type": "message", "channel": "...", "data": <JSON value, or the text>} (plus "pattern" when it
came through a pattern subscription; binary data as {"data": "<base64>", "encoding": "base64"}).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass

from lib_common import untrusted_json
from lib_common.core.client_messages import parse_json_object
from lib_common.core.frame import Frame
from lib_common.core.wsframe import text_frame
from lib_common.errors import ProtocolError
from lib_common.redis_bus.subscriber import BusMessage

OPS = {"subscribe": "channels", "unsubscribe": "channels", "psubscribe": "patterns", "punsubscribe": "patterns"}
MAX_NAME = 256
# Pattern subscriptions live in the same registry as channels, under keys no channel can have
# (names with control characters are refused).
PATTERN_KEY = "\x00p:"

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class Request:
    op: str  # "ping" or one of OPS
    names: tuple[str, ...] = ()


def parse_request(text: str, *, max_bytes: int, max_names: int) -> Request:
    body = parse_json_object(text, max_bytes=max_bytes)
    op = body.get("op")
    if op == "ping":
        return Request("ping")
    if op is None:
        raise ProtocolError("bad_message", 'missing "op"')
    if op not in OPS:
        raise ProtocolError("unknown_op", f"unknown op {op!r}: expected {', '.join(OPS)} or ping")
    key = OPS[op]
    value = body.get(key)
    if not isinstance(value, list) or not value:
        raise ProtocolError(f"bad_{key}", f'"{key}" must be a non-empty list of strings')
    if len(value) > max_names:
        raise ProtocolError(f"too_many_{key}", f"{len(value)} {key} in one message, limit is {max_names}")
    names: list[str] = []
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item or len(item) > MAX_NAME or not item.isprintable():
            raise ProtocolError(
                f"bad_{key}", f"{key}[{i}]: expected a printable string of 1 to {MAX_NAME} characters, found {item!r}"
            )
        if item not in names:
            names.append(item)
    return Request(op, tuple(names))


def pattern_key(pattern: str) -> str:
    return PATTERN_KEY + pattern


def message_frame(message: BusMessage) -> Frame:
    """The client frame for one Redis message; conflated by channel whatever route it takes."""
    head = b'{"type":"message","channel":' + _dumps(message.channel).encode()
    if message.pattern is not None:
        head += b',"pattern":' + _dumps(message.pattern).encode()
    data = message.data
    try:
        text = data.decode()
    except UnicodeDecodeError:
        body = head + b',"data":"' + base64.b64encode(data) + b'","encoding":"base64"}'
    else:
        try:
            untrusted_json.loads(text, check_floats=False)
        except untrusted_json.BadJSON:
            body = head + b',"data":' + _dumps(text).encode() + b"}"
        else:
            body = head + b',"data":' + data + b"}"  # valid JSON: embedded as it came
    return Frame(message.channel, body, text_frame(body))

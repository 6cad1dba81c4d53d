"""redis2ws's plain rules: tenant grants for channels and patterns, requests, message frames."""

from __future__ import annotations

import json

import pytest

from lib_common.errors import ConfigError, ProtocolError
from lib_common.redis_bus.subscriber import BusMessage
from servers.kit.config import ClientLimits, Tenant, find_tenant
from servers.redis2ws.config import allows_pattern, parse_config
from servers.redis2ws.protocol import message_frame, parse_request
from servers.restream.config import parse_config as parse_restream_config


@pytest.mark.parametrize(
    ("pattern", "allowed"),
    [
        ("rsdev:quote:*", True),
        ("rsdev:quote:A*", True),
        ("rsdev:quote:AAPL", True),
        ("rsdev:*", False),
        ("*", False),
        ("rsdev:quote?AAPL", False),
        ("alerts", True),
        ("alert?", False),
    ],
)
def test_patterns_are_allowed_only_inside_the_grants(pattern: str, allowed: bool) -> None:
    tenant = Tenant("t", "x", grants=("rsdev:quote:*", "alerts"))
    assert allows_pattern(tenant, pattern) is allowed


def test_a_single_character_grant_does_not_admit_a_star() -> None:
    assert not allows_pattern(Tenant("t", "x", grants=("a?c",)), "a*c")


def test_requests_parse_and_dedupe() -> None:
    request = parse_request('{"op":"psubscribe","patterns":["a*","a*","b"]}', max_bytes=1000, max_names=10)
    assert (request.op, request.names) == ("psubscribe", ("a*", "b"))
    with pytest.raises(ProtocolError) as info:
        parse_request('{"op":"subscribe","channels":["a","b"]}', max_bytes=1000, max_names=1)
    assert info.value.code == "too_many_channels"


def test_message_frames_embed_json_quote_text_and_base64_binary() -> None:
    assert json.loads(message_frame(BusMessage("c", b'{"a": [1]}')).payload)["data"] == {"a": [1]}
    assert json.loads(message_frame(BusMessage("c", b"NaN")).payload)["data"] == "NaN"
    body = json.loads(message_frame(BusMessage("c", b"\xff\x00", "c*")).payload)
    assert body == {"type": "message", "channel": "c", "pattern": "c*", "data": "/wA=", "encoding": "base64"}
    assert message_frame(BusMessage("c", b"1")).symbol == "c"


def test_config_reads_tenants_channels_and_redis_url() -> None:
    config = parse_config('{redis_url: "redis://h:1/0", tenants: [{name: "a", token: "t", channels: ["x:*"]}]}')
    assert config.redis_url == "redis://h:1/0"
    assert find_tenant(config.tenants, "t") == Tenant("a", "t", grants=("x:*",))
    assert find_tenant(config.tenants, "bad") is None


def test_limits_are_named_for_what_clients_subscribe_to() -> None:
    """One ClientLimits for both gateways; its keys say symbols in restream, channels here."""
    config = parse_config("{limits: {max_channels_per_message: 7, max_channels_per_client: 9, burst: 3}}")
    assert config.limits == ClientLimits(max_per_message=7, max_per_client=9, burst=3)
    assert parse_restream_config("{limits: {max_symbols_per_client: 4}}").limits == ClientLimits(max_per_client=4)
    with pytest.raises(ConfigError, match="max_symbols_per_client"):
        parse_config("{limits: {max_symbols_per_client: 4}}")  # restream's key, not redis2ws's
    with pytest.raises(ConfigError, match="max_channels_per_message"):
        parse_config("{limits: {max_channels_per_message: 0}}")

"""redis2ws end to end: tenants' channel rules, patterns, bad input, 401; real Redis."""

from __future__ import annotations

import json
from typing import Any

import pytest
import redis
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.servers.conftest import Launcher, ServerProcess, until
from tests.servers.redis.conftest import SHARED_REDIS
from tests.servers.restream.test_protocol_e2e import recv_until

pytestmark = pytest.mark.asyncio


def bridge_for(start: Launcher, prefix: str) -> ServerProcess:
    config = {
        "redis_url": SHARED_REDIS,
        "registry": {"linger_s": 0.5},
        "tenants": [
            {"name": "quotes", "token": "tq", "channels": [f"{prefix}quote:*"]},
            {"name": "alerts", "token": "ta", "channels": [f"{prefix}alert", f"{prefix}quote:AAPL"]},
        ],
    }
    return start(config)


async def send(ws: ClientConnection, **body: object) -> None:
    await ws.send(json.dumps(body))


def publish(channel: str, data: bytes | str) -> int:
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        return int(client.publish(channel, data))
    finally:
        client.close()


def numsub(channel: str) -> int:
    client = redis.Redis.from_url(SHARED_REDIS)
    try:
        return int(dict(client.pubsub_numsub(channel))[channel.encode()])
    finally:
        client.close()


async def test_bad_token_is_refused_before_the_upgrade(start_redis2ws: Launcher, prefix: str) -> None:
    bridge = bridge_for(start_redis2ws, prefix)
    for path in ("/ws", "/ws?token=nope"):
        with pytest.raises(InvalidStatus) as info:
            async with connect(bridge.url(path, ws=True)):
                pass
        assert info.value.response.status_code == 401
    assert bridge.get("/health").status_code == 200


async def test_channels_json_and_text_one_redis_subscription_for_many_clients(
    start_redis2ws: Launcher, prefix: str
) -> None:
    bridge = bridge_for(start_redis2ws, prefix)
    channel = f"{prefix}quote:AAPL"
    url = bridge.url("/ws?token=tq", ws=True)
    async with connect(url) as a, connect(url) as b:
        for ws in (a, b):
            await send(ws, op="subscribe", channels=[channel])
            assert await recv_until(ws, "subscribed") == {"type": "subscribed", "channels": [channel]}
        await until(lambda: numsub(channel) == 1)
        publish(channel, b'{"price": 1.5}')
        publish(channel, "plain text")
        for ws in (a, b):
            assert await recv_until(ws, "message") == {"type": "message", "channel": channel, "data": {"price": 1.5}}
            assert await recv_until(ws, "message") == {"type": "message", "channel": channel, "data": "plain text"}
        status: Any = bridge.status()
        assert status["subscriptions"]["channels"] == [channel] and status["redis"]["connected"]
    # Both gone: after the linger, the one Redis subscription goes too.
    await until(lambda: numsub(channel) == 0)


async def test_patterns_and_tenant_rules(start_redis2ws: Launcher, prefix: str) -> None:
    bridge = bridge_for(start_redis2ws, prefix)
    async with connect(bridge.url("/ws?token=tq", ws=True)) as ws:
        await send(ws, op="psubscribe", patterns=[f"{prefix}quote:*", "*"])
        refused = await recv_until(ws, "error")
        assert refused["code"] == "channel_refused" and refused["message"].startswith("*:")
        assert await recv_until(ws, "psubscribed") == {"type": "psubscribed", "patterns": [f"{prefix}quote:*"]}
        await send(ws, op="subscribe", channels=[f"{prefix}alert"])
        assert (await recv_until(ws, "error"))["code"] == "channel_refused"
        await until(lambda: publish(f"{prefix}quote:MSFT", b"1") == 1)
        message = await recv_until(ws, "message")
        assert message == {
            "type": "message",
            "channel": f"{prefix}quote:MSFT",
            "pattern": f"{prefix}quote:*",
            "data": 1,
        }
        await send(ws, op="punsubscribe", patterns=[f"{prefix}quote:*"])
        assert await recv_until(ws, "punsubscribed") == {"type": "punsubscribed", "patterns": [f"{prefix}quote:*"]}
    async with connect(bridge.url("/ws", ws=True), additional_headers={"Authorization": "Bearer ta"}) as ws:
        # A grant of one channel does not stretch to a pattern over its neighbours.
        await send(ws, op="psubscribe", patterns=[f"{prefix}quote:*"])
        assert (await recv_until(ws, "error"))["code"] == "channel_refused"
        await send(ws, op="subscribe", channels=[f"{prefix}alert"])
        assert await recv_until(ws, "subscribed") == {"type": "subscribed", "channels": [f"{prefix}alert"]}


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("not json", "bad_json"),
        ("[" * 60_000, "bad_json"),
        ('{"op": "teleport"}', "unknown_op"),
        ('{"op": "subscribe", "channels": []}', "bad_channels"),
        ('{"op": "psubscribe", "patterns": [3]}', "bad_patterns"),
        ('{"op": "subscribe", "channels": ["a\\u0000b"]}', "bad_channels"),
        (json.dumps({"op": "ping", "pad": "x" * 70_000}), "too_large"),
        (b"\x00binary", "bad_message"),
    ],
)
async def test_bad_input_gets_an_error_frame_and_the_connection_stays_up(
    start_redis2ws: Launcher, prefix: str, message: str | bytes, code: str
) -> None:
    bridge = start_redis2ws(None, "--redis-url", SHARED_REDIS)
    async with connect(bridge.url("/ws", ws=True)) as ws:
        await ws.send(message)
        error = await recv_until(ws, "error")
        assert error["code"] == code and error["message"]
        await send(ws, op="ping")
        assert await recv_until(ws, "pong") == {"type": "pong"}

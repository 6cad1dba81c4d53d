"""Helpers that talk to a running server_dummy the way a Yahoo client does."""

from __future__ import annotations

import asyncio
import base64
import json
import time

from websockets.asyncio.client import ClientConnection

from lib_common.ingestors.cnn.fear_greed import INDICATORS
from lib_common.ingestors.yahoo.wire import decode_pricing

# The sub-indicators the stand-in serves: every one rsdev's CNN parser reads, but the 50-day VIX
# variant (an optional extra in CNN's bodies).
DUMMY_INDICATORS = tuple(name for name in INDICATORS if name != "market_volatility_vix_50")


def decode_frame(text: str | bytes) -> dict[str, object]:
    """A server frame's PricingData fields; raises on any frame that is not a good pricing frame."""
    envelope = json.loads(text)
    assert envelope["type"] == "pricing"
    return decode_pricing(base64.b64decode(envelope["message"], validate=True))


async def subscribe(ws: ClientConnection, *symbols: str) -> None:
    await ws.send(json.dumps({"subscribe": list(symbols)}))


async def recv_pricing(ws: ClientConnection, timeout: float = 5.0) -> dict[str, object]:
    return decode_frame(await asyncio.wait_for(ws.recv(), timeout))


async def drain(ws: ClientConnection, seconds: float) -> list[str | bytes]:
    """Every frame that arrives within `seconds`."""
    frames: list[str | bytes] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append(await asyncio.wait_for(ws.recv(), left))
        except TimeoutError:
            break
    return frames

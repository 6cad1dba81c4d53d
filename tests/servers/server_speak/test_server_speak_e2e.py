"""server_speak as a real process: a rule fires on restream's synthetic quote stream (and on
Redis pub/sub), and with no sound card the speech lands in a valid, non-silent WAV file."""

from __future__ import annotations

import array
import asyncio
import json
import math
import subprocess
import time
import uuid
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import websockets

from lib_common.audio import sound_cards
from tests.servers.conftest import Launcher, ServerProcess, StartRestream

pytestmark = pytest.mark.skipif(bool(sound_cards()), reason="this host has a sound card: speech would be played")

StartSpeak = Launcher


@pytest.fixture
def start_speak(tmp_path: Path) -> Iterator[Launcher]:
    with Launcher(tmp_path, "servers.server_speak") as launcher:
        yield launcher


def rms(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2
        samples = array.array("h", wav.readframes(wav.getnframes()))
    assert len(samples) > 1000
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768


def wait_written(server: ServerProcess, count: int = 1, timeout: float = 60.0) -> list[Path]:
    deadline = time.monotonic() + timeout
    status: dict[str, object] = {}
    while time.monotonic() < deadline:
        status = server.status()
        files = status["recent_files"]
        assert isinstance(files, list)
        if len(files) >= count:
            return [Path(f) for f in files]
        time.sleep(0.2)
    raise AssertionError(f"no WAV written within {timeout}s: {status}\n{server.output()}")


async def first_price(url: str, symbol: str) -> float:
    async with websockets.connect(url, proxy=None) as ws:
        await ws.send(json.dumps({"op": "subscribe", "symbols": [symbol]}))
        async with asyncio.timeout(20):
            async for message in ws:
                body = json.loads(message)
                if body.get("type") == "quote" and body.get("symbol") == symbol:
                    return float(body["price"])
    raise AssertionError("no quote")


def test_price_cross_on_restream_stream_writes_non_silent_wav(
    start_restream: StartRestream, start_speak: Launcher, tmp_path: Path
) -> None:
    restream = start_restream(None, "--symbols", "AAPL", "--rate", "20")
    price = asyncio.run(first_price(restream.url("/ws", ws=True), "AAPL"))
    out = tmp_path / "speech"
    speak = start_speak(
        {
            "sources": {"restream_url": restream.url("/ws", ws=True)},
            # The synthetic walk wanders around its price: a level at it is crossed soon.
            "rules": [{"kind": "price_cross", "symbol": "AAPL", "level": round(price, 2), "direction": "any"}],
            "queue": {"min_gap_s": 0.5, "dedup_s": 0},
            "output_dir": str(out),
        }
    )
    files = wait_written(speak)
    assert files[0].parent == out and rms(files[0]) > 0.01
    sox = subprocess.run(["sox", "--i", "-t", str(files[0])], capture_output=True, text=True, timeout=30)
    assert sox.returncode == 0 and sox.stdout.strip() == "wav"
    status = speak.status()
    assert status["sound_card"] is False
    assert status["sources"]["restream"]["quotes"] > 0  # type: ignore[index]
    assert status["alerts_fired"] >= 1  # type: ignore[operator]
    assert "AAPL crossed" in speak.output() and str(files[0]) in speak.output()
    assert "server_speak_utterances_total" in speak.get("/metrics").text


def test_price_cross_on_redis_pubsub(start_speak: Launcher, tmp_path: Path) -> None:
    symbol = f"SPK{uuid.uuid4().hex[:6].upper()}"
    speak = start_speak(
        {
            "sources": {"redis_url": "redis://127.0.0.1:6379/0"},
            "rules": [{"kind": "price_cross", "symbol": symbol, "level": 100, "direction": "up"}],
            "output_dir": str(tmp_path / "speech"),
        }
    )
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    try:
        deadline = time.monotonic() + 20
        while not speak.status()["sources"]["redis"]["connected"]:  # type: ignore[index]
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for price in (99.0, 101.0):
            quote = {"type": "quote", "symbol": symbol, "price": price, "ts_upstream": 1, "ts_library_in": 1}
            client.publish(f"rsdev:quote:{symbol}", json.dumps(quote))
    finally:
        client.close()
    files = wait_written(speak)
    assert rms(files[0]) > 0.01


def test_post_speak(start_speak: Launcher, tmp_path: Path) -> None:
    speak = start_speak(
        {
            "rules": [{"kind": "monitor", "events": ["outage_start"]}],
            "queue": {"min_gap_s": 0, "dedup_s": 60},
            "output_dir": str(tmp_path / "speech"),
        }
    )
    url = speak.url("/speak")
    assert httpx.post(url, json={"text": "deploy finished", "priority": "high"}).json() == {"result": "queued"}
    assert httpx.post(url, json={"text": "deploy finished"}).json() == {"result": "duplicate"}
    muted = httpx.post(url, json={"text": "network back", "event": "outage_end"})
    assert muted.status_code == 202 and muted.json()["result"] == "muted"
    assert httpx.post(url, json={"text": "network down", "event": "outage_start"}).json() == {"result": "queued"}
    bad = httpx.post(url, json={"text": "", "priority": "high"})
    assert bad.status_code == 400 and "text" in bad.json()["error"]
    assert httpx.post(url, content=b"not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.post(url, content=b'{"text": "x"}').status_code == 415  # no JSON content type
    assert httpx.post(url, json={"text": "x", "priority": "urgent"}).status_code == 400
    files = wait_written(speak, 2)
    assert all(rms(f) > 0.01 for f in files)
    assert speak.get("/health").json() == {"status": "ok", "sound_card": False}

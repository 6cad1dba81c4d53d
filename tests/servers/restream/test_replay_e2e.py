"""restream --feed replay end to end: a generated day file, a real process, real clients."""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from lib_common.client import Client
from tests.lib_common.ingestors.replay.recording import START_US, log_line, session
from tests.servers.conftest import StartRestream, run_module
from tests.servers.restream.test_protocol_e2e import recv_until, subscribe

SYMBOLS = ["AAPL", "MSFT", "BTC-USD"]


def day_file(directory: Path, ticks: int = 200) -> Path:
    """server_log's closed day: 200 quotes of each symbol, 10 a second, with two bad lines."""
    directory.mkdir(exist_ok=True)
    lines = [log_line(q, i) for i, q in enumerate(session(SYMBOLS, ticks))]
    lines[10:10] = [
        b"{not json\n",
        b'{"type":"quote","symbol":"X","market_hours":"lunch","ts_upstream":1,"ts_library_in":2}\n',
    ]
    path = directory / "quotes-2025-11-21.ndjson.gz"
    path.write_bytes(gzip.compress(b"".join(lines)))
    return path


@pytest.mark.asyncio
async def test_full_speed_delivers_every_recorded_quote_once_in_order(
    start_restream: StartRestream, tmp_path: Path
) -> None:
    path = day_file(tmp_path / "logs")
    server = start_restream(None, "--feed", "replay", "--replay-file", str(tmp_path / "logs"), "--speed", "0")
    assert server.status()["upstream"]["state"] == "idle"  # type: ignore[index]
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL", "MSFT")
        quotes = [await recv_until(ws, "quote") for _ in range(400)]
        finished = await recv_until(ws, "status")
        assert finished["upstream"] == "idle" and "replay finished" in finished["reason"]
    recorded = [q for q in session(SYMBOLS, 200) if q.symbol in ("AAPL", "MSFT")]
    assert [(q["symbol"], q["ts_upstream"], q["price"]) for q in quotes] == [
        (q.symbol, q.ts_upstream, q.price) for q in recorded
    ]
    for q in quotes:
        assert q["ts_upstream"] < q["ts_library_in"] <= q["ts_library_out"]  # stamped afresh, now
        assert "stream_id" not in q and q["market_hours"] == "regular" and q["exchange"] == "NMS"
    upstream = server.status()["upstream"]
    assert isinstance(upstream, dict)
    assert upstream["feed"] == "replay" and upstream["files"] == [str(path)]
    assert upstream["lines"] == 602 and upstream["sent"] == 400
    assert upstream["bad_lines"] == {"not_json": 1, "bad_field": 1}
    metrics = server.get("/metrics").text
    assert "restream_replay_quotes_total 400" in metrics
    assert 'restream_replay_bad_lines_total{reason="not_json"} 1' in metrics


@pytest.mark.asyncio
async def test_the_client_library_reads_a_looped_replay(start_restream: StartRestream, tmp_path: Path) -> None:
    day_file(tmp_path, ticks=20)
    server = start_restream(
        None,
        "--feed",
        "replay",
        "--replay-file",
        str(tmp_path / "quotes-2025-11-21.ndjson.gz"),
        "--speed",
        "20",
        "--loop",
    )
    seen: list[int] = []
    async with Client(server.url("/ws", ws=True), symbols=["BTC-USD"]) as client:
        async with asyncio.timeout(15):
            async for quote in client:
                seen.append(int(quote["ts_upstream"]))
                if len(seen) == 50:
                    break
    day = 86_400_000_000
    assert seen == sorted(seen)  # every pass a day later: never older, so none is dropped
    assert seen[:20] == [START_US + 2 + i * 100_000 for i in range(20)]
    assert seen[20:40] == [s + day for s in seen[:20]] and seen[40] == seen[0] + 2 * day
    figures = server.status()["upstream"]
    assert isinstance(figures, dict) and figures["passes"] >= 2 and figures["loop"] is True


@pytest.mark.asyncio
async def test_paced_replay_keeps_the_recorded_rhythm(start_restream: StartRestream, tmp_path: Path) -> None:
    day_file(tmp_path, ticks=30)
    server = start_restream(None, "--feed", "replay", "--replay-file", str(tmp_path / "quotes-2025-11-21.ndjson.gz"))
    async with connect(server.url("/ws", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        stamps = [(await recv_until(ws, "quote"))["ts_library_in"] for _ in range(11)]
    # speed 1: ten steps of 0.1 s recorded take a second (the timer may be late, never early)
    assert 990_000 <= stamps[-1] - stamps[0] < 1_300_000


def test_missing_or_empty_recordings_are_config_errors(tmp_path: Path) -> None:
    missing = run_module("servers.restream", "--feed", "replay", "--replay-file", str(tmp_path / "nope.ndjson"))
    assert missing.returncode == 2 and "no such file or directory" in missing.stderr
    none = run_module("servers.restream", "--feed", "replay")
    assert none.returncode == 2 and "--replay-file" in none.stderr
    (tmp_path / "quotes-2025-11-21.ndjson").write_text(json.dumps({}))
    out_of_range = run_module(
        "servers.restream", "--feed", "replay", "--replay-file", str(tmp_path), "--replay-from", "2025-12-01"
    )
    assert out_of_range.returncode == 2 and "no day files" in out_of_range.stderr

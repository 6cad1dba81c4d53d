"""One benchmark reader process: `plain` (websockets, json.loads) or `sdk` (lib_common.client),
reading restream for a given time after a warm-up; prints its CPU seconds and quote count.

    python bench/client/reader.py plain|sdk URL SYMBOLS WARMUP_S SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from websockets.asyncio.client import connect

from lib_common.client import Client


async def plain(url: str, symbols: list[str], warmup: float, seconds: float) -> tuple[float, int]:
    async with connect(url, max_size=1 << 20) as ws:
        await ws.send(json.dumps({"op": "subscribe", "symbols": symbols}))
        return await measure((json.loads(message) async for message in ws), warmup, seconds)


async def sdk(url: str, symbols: list[str], warmup: float, seconds: float) -> tuple[float, int]:
    async with Client(url, symbols) as client:
        return await measure(client, warmup, seconds)


async def measure(frames: object, warmup: float, seconds: float) -> tuple[float, int]:
    start = time.monotonic() + warmup
    end = start + seconds
    cpu0 = 0.0
    n = -1
    async for frame in frames:  # type: ignore[attr-defined]
        if n < 0:
            if time.monotonic() < start:
                continue
            cpu0, n = time.process_time(), 0
        if frame.get("type") == "quote":
            n += 1
        if n & 63 == 0 and time.monotonic() >= end:
            break
    return time.process_time() - cpu0, n


def main() -> None:
    kind, url, symbols, warmup, seconds = sys.argv[1:6]
    run = {"plain": plain, "sdk": sdk}[kind]
    cpu, n = asyncio.run(run(url, symbols.split(","), float(warmup), float(seconds)))
    print(json.dumps({"kind": kind, "cpu_s": cpu, "quotes": n}))


if __name__ == "__main__":
    main()

"""Decode-and-normalise throughput of Yahoo streamer frames: google.protobuf's upb decoder (what
lib_common uses) against betterproto's generated class (its own parse, and the table-driven reader
lib_common built from it before), in the same run.

    uv run --all-packages --group dev python bench/yahoo_decode/run.py [--frames 20000] [--repeat 5]

Frames are realistic PricingData messages (equities, crypto, options fields on some) encoded by
google.protobuf (yfinance's generated module), wrapped as the streamer sends them:
{"type":"pricing","message":"<base64>"}. Each contender processes every frame; the best of
--repeat runs is reported, on one core (the process is pinned to CPU 0).
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import time
from collections.abc import Callable

import table_reader  # type: ignore[import-not-found]  # beside this file
from google.protobuf.json_format import MessageToDict
from yfinance import pricing_pb2  # type: ignore[import-untyped]

from lib_common.ingestors.yahoo.normalise import decode_frame, frame_payload, to_quote
from lib_common.ingestors.yahoo.pricing_pb import PricingData
from lib_common.ingestors.yahoo.wire import parse_pricing

SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "SPY", "BTC-USD", "ETH-USD", "^GSPC", "EURUSD=X"]


def make_frames(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    frames = []
    t = 1_763_769_600_000
    for i in range(n):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        crypto = symbol.endswith("-USD")
        price = rng.uniform(10, 500)
        fields: dict[str, object] = {
            "id": symbol,
            "price": price,
            "time": t + i * 7,
            "currency": "USD",
            "exchange": "CCC" if crypto else "NMS",
            "quote_type": 41 if crypto else 8,
            "market_hours": 1,
            "change_percent": rng.uniform(-3, 3),
            "day_volume": rng.randrange(1, 90_000_000),
            "day_high": price * 1.01,
            "day_low": price * 0.99,
            "change": rng.uniform(-5, 5),
            "short_name": f"{symbol} Inc.",
            "price_hint": 2,
        }
        if crypto:
            fields |= {"vol_24hr": rng.randrange(1, 10**10), "circulating_supply": 1.9e7, "market_cap": 1.2e12}
        data = pricing_pb2.PricingData(**fields).SerializeToString()
        frames.append(json.dumps({"type": "pricing", "message": base64.b64encode(data).decode()}))
    return frames


def ours(frames: list[str]) -> None:
    now = time.time_ns() // 1000
    for frame in frames:
        decode_frame(frame, now)


def upb_to_quote(payloads: list[bytes]) -> None:
    for data in payloads:
        to_quote(parse_pricing(data), 0)


def upb_decode_only(payloads: list[bytes]) -> None:
    for data in payloads:
        parse_pricing(data)


def table_to_quote(payloads: list[bytes]) -> None:
    for data in payloads:
        table_reader.to_quote(table_reader.decode_pricing(data), 0)


def table_decode_only(payloads: list[bytes]) -> None:
    for data in payloads:
        table_reader.decode_pricing(data)


def google_like_yfinance(frames: list[str]) -> None:
    # What yfinance does with each frame: JSON envelope, base64, parse, MessageToDict.
    for frame in frames:
        message = pricing_pb2.PricingData.FromString(base64.b64decode(json.loads(frame)["message"]))
        MessageToDict(message, preserving_proto_field_name=True)


def betterproto_decode_only(payloads: list[bytes]) -> None:
    for data in payloads:
        PricingData().parse(data)


def best(fn: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    frames = make_frames(args.frames)
    payloads = [frame_payload(f) for f in frames]
    few = max(1, args.frames // 50)  # betterproto is slow: time a slice and scale
    rows = [
        ("rsdev: envelope + base64 + decode + normalise → Quote", best(lambda: ours(frames), args.repeat), args.frames),
        (
            "upb (google.protobuf, C): decode + normalise → Quote",
            best(lambda: upb_to_quote(payloads), args.repeat),
            args.frames,
        ),
        ("upb (google.protobuf, C): decode only", best(lambda: upb_decode_only(payloads), args.repeat), args.frames),
        (
            "betterproto class → table reader (pure Python): decode + normalise → Quote",
            best(lambda: table_to_quote(payloads), args.repeat),
            args.frames,
        ),
        (
            "betterproto class → table reader (pure Python): decode only",
            best(lambda: table_decode_only(payloads), args.repeat),
            args.frames,
        ),
        (
            "google.protobuf as yfinance: envelope + base64 + decode + MessageToDict",
            best(lambda: google_like_yfinance(frames), args.repeat),
            args.frames,
        ),
        (
            "betterproto 2.0.0b7 Message.parse: decode only",
            best(lambda: betterproto_decode_only(payloads[:few]), 1),
            few,
        ),
    ]
    base = rows[0][1] / rows[0][2]
    print(
        f"{args.frames} frames, {sum(map(len, frames)) / len(frames):.0f} bytes each on average, best of {args.repeat}"
    )
    print()
    print("| contender | frames/s | µs/frame | x rsdev full path |")
    print("|---|---:|---:|---:|")
    for name, seconds, n in rows:
        per = seconds / n
        print(f"| {name} | {1 / per:,.0f} | {per * 1e6:.2f} | {base / per:.2f} |")


if __name__ == "__main__":
    main()

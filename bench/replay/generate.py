"""A generated recorded session, as server_log writes it: `quotes-YYYY-MM-DD.ndjson.gz`.

    python bench/replay/generate.py DIR [--symbols 10] [--rate 10] [--hours 6.5]

SYMBOL quotes `rate` times a second each, from 09:30 New York on 2025-11-21 for `hours`, every
line `{"stream_id":...,"quote_id":...,<restream's quote frame>}` with a random walk for the
price and growing volume. Deterministic (seeded), so runs compare.
"""

from __future__ import annotations

import argparse
import gzip
import random
from pathlib import Path

START_US = 1_763_735_400_000_000  # 2025-11-21 09:30 America/New_York
DAY = "2025-11-21"
SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "SPY", "QQQ", "BTC-USD")
LINE = (
    '{"stream_id":"%d-%d","quote_id":"bench:%d","type":"quote","symbol":"%s","price":%s,"change":%s,'
    '"change_percent":%s,"day_volume":%d,"market_hours":"regular","currency":"USD","exchange":"NMS",'
    '"ts_upstream":%d,"ts_library_in":%d,"ts_library_out":%d}\n'
)


def generate(directory: Path, symbols: int = 10, rate: int = 10, hours: float = 6.5) -> tuple[Path, int]:
    """Write the day file (if it is not there already); (its path, its line count)."""
    names = [SYMBOLS[i] if i < len(SYMBOLS) else f"SYM{i}" for i in range(symbols)]
    ticks = int(hours * 3600 * rate)
    path = directory / f"quotes-{DAY}.ndjson.gz"
    lines = ticks * len(names)
    if path.exists():
        return path, lines
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(15)
    prices = [100.0 + 50 * i for i in range(len(names))]
    closes = list(prices)
    step_us = 1_000_000 // rate
    seq = 0
    tmp = path.with_suffix(".tmp")
    with gzip.open(tmp, "wt", compresslevel=6) as out:
        for tick in range(ticks):
            base = START_US + tick * step_us
            chunk = []
            for i, name in enumerate(names):
                prices[i] *= 1 + rng.gauss(0, 0.0002)
                ts = base + i * 37
                change = prices[i] - closes[i]
                chunk.append(
                    LINE
                    % (
                        ts // 1000,
                        i,
                        seq,
                        name,
                        repr(round(prices[i], 4)),
                        repr(round(change, 4)),
                        repr(round(change / closes[i] * 100, 4)),
                        1000 + tick * 100,
                        ts,
                        ts + 800,
                        ts + 850,
                    )
                )
                seq += 1
            out.write("".join(chunk))
    tmp.rename(path)
    return path, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--symbols", type=int, default=10)
    parser.add_argument("--rate", type=int, default=10)
    parser.add_argument("--hours", type=float, default=6.5)
    args = parser.parse_args()
    path, lines = generate(args.dir, args.symbols, args.rate, args.hours)
    print(f"{path}: {lines} lines")


if __name__ == "__main__":
    main()

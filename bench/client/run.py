"""CPU per quote: lib_common.client vs a plain websockets client reading the same restream feed
in the same run (issue 12: the SDK adds at most 10 %).

    uv run --all-packages python bench/client/run.py [--symbols 10] [--rate 200] [--seconds 10]
        [--rounds 3] [--out bench/results/client.json]

Each round starts both readers together (separate processes, the same subscription) against
one restream on its synthetic feed, and reads each one's own CPU time (time.process_time) over
the same window after a warm-up. The plain reader does what any client must: json.loads each
frame. See bench/client/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE.parent / "fanout"))
sys.path.insert(0, str(ROOT))

import procs  # noqa: E402

from tests.processes import wait_healthy  # noqa: E402

SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "SPY", "BTC-USD", "ETH-USD"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description="CPU per quote: lib_common.client vs plain websockets")
    p.add_argument("--symbols", type=int, default=len(SYMBOLS))
    p.add_argument("--rate", type=float, default=200.0, help="quotes/s per symbol")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "client.json")
    return p.parse_args()


def main() -> None:
    args = parse_args()
    symbols = ",".join(SYMBOLS[: args.symbols])
    port = procs.free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "servers.restream", "--port", str(port), "--symbols", symbols, "--rate", str(args.rate)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rounds = []
    try:
        problem = wait_healthy(server, f"http://127.0.0.1:{port}/health", 15)
        if problem is not None:
            raise RuntimeError(f"restream {problem}")
        url = f"ws://127.0.0.1:{port}/ws"
        for _ in range(args.rounds):
            readers = {
                kind: subprocess.Popen(
                    [sys.executable, str(HERE / "reader.py"), kind, url, symbols, str(args.warmup), str(args.seconds)],
                    stdout=subprocess.PIPE,
                    text=True,
                )
                for kind in ("plain", "sdk")
            }
            result = {
                kind: json.loads(proc.communicate(timeout=args.seconds * 3 + 30)[0]) for kind, proc in readers.items()
            }
            for r in result.values():
                r["us_per_quote"] = 1e6 * r["cpu_s"] / max(r["quotes"], 1)
            result["overhead_pct"] = 100 * (result["sdk"]["us_per_quote"] / result["plain"]["us_per_quote"] - 1)
            rounds.append(result)
            print(
                f"plain {result['plain']['us_per_quote']:.1f} µs/quote ({result['plain']['quotes']} quotes), "
                f"sdk {result['sdk']['us_per_quote']:.1f} µs/quote ({result['sdk']['quotes']} quotes): "
                f"{result['overhead_pct']:+.1f} %"
            )
    finally:
        server.terminate()
        server.wait(30)
    summary = {
        "symbols": args.symbols,
        "rate_per_symbol": args.rate,
        "seconds": args.seconds,
        "rounds": rounds,
        "median_overhead_pct": statistics.median(r["overhead_pct"] for r in rounds),
    }
    print(f"median overhead: {summary['median_overhead_pct']:+.1f} %")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Benchmark: json5.loads (PyPI) against json5format.loads, parse and format on ~2 MB of JSON5.

    uv run --all-packages python bench/json5/run.py [--size BYTES] [--repeat N] [--json5-repeat N]

Prints a markdown table; every figure is the best of its runs, all in this one process.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import json5
from generate import document

import json5format


def best_of(runs: int, action: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2_000_000, help="document size in bytes (default 2 MB)")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each json5format function (default 5)")
    parser.add_argument("--json5-repeat", type=int, default=1, help="runs of json5.loads, which is slow (default 1)")
    args = parser.parse_args()

    text = document(args.size)
    ours = json5format.loads(text)
    formatted = json5format.format(text)
    assert json5format.loads(formatted) == ours, "format changed the document's value"
    assert json5format.format(formatted) == formatted, "format is not idempotent"

    timings = {
        "json5format.loads": best_of(args.repeat, lambda: json5format.loads(text)),
        "json5format.parse (syntax tree)": best_of(args.repeat, lambda: json5format.parse(text)),
        "json5format.format": best_of(args.repeat, lambda: json5format.format(text)),
    }
    started = time.perf_counter()
    reference = json5.loads(text)
    first = time.perf_counter() - started
    timings["json5.loads (PyPI json5 " + json5.VERSION + ")"] = min(
        first, best_of(args.json5_repeat - 1, lambda: json5.loads(text))
    )
    assert reference == ours, "json5format.loads disagrees with json5.loads"

    loads = timings["json5format.loads"]
    print(f"Document: {len(text.encode()):,} bytes, {text.count(chr(10)):,} lines (bench/json5/generate.py)\n")
    print("| function | best time (s) | x json5format.loads |")
    print("|---|---:|---:|")
    for name, seconds in timings.items():
        print(f"| {name} | {seconds:.3f} | {seconds / loads:.2f} |")
    slow = timings[next(name for name in timings if name.startswith("json5.loads"))]
    print(f"\njson5format.loads is {slow / loads:.0f}x faster than json5.loads;", end=" ")
    print(f"format takes {timings['json5format.format'] / loads:.2f}x the time of json5format.loads.")


if __name__ == "__main__":
    main()

"""The Python under one low-load tick, without sockets: the synthetic feed's tick and the
dispatcher's fan-out of it to N clients whose egress takes the bytes and does nothing.

    uv run --all-packages python bench/fanout/dispatch_micro.py [--clients 100] [--ticks 3000]

Subtract this from the low-load scenario's server CPU per delivery and from write_floor.py's
send() cost, and what is left is the event loop and asyncio's transport (issue 16).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from lib_common.clock import ManualClock
from lib_common.core.dispatcher import Dispatcher
from lib_common.core.memory_guard import MemoryGuard
from lib_common.core.quote import Quote
from lib_common.core.registry import Registry
from lib_common.core.session import ClientSession
from lib_common.ingestors.synthetic import SyntheticFeed

SYMBOLS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "SPY", "BTC-USD", "ETH-USD"]


class _NullEgress:
    def write(self, data: bytes) -> None:
        pass

    def close(self, code: int, reason: str) -> None:
        pass


class _NullUpstream:
    def subscribe(self, symbols: list[str]) -> None:
        pass

    def unsubscribe(self, symbols: list[str]) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--ticks", type=int, default=3000)
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {0})  # where bench/fanout puts the server
    clock = ManualClock()
    deferred: list[object] = []
    registry: Registry[ClientSession] = Registry(_NullUpstream(), clock, linger_s=0)
    dispatcher = Dispatcher(registry, MemoryGuard(1 << 30), clock, defer=deferred.append)
    for _ in range(args.clients):
        session = ClientSession(_NullEgress(), priority=0, queue_capacity=64)
        dispatcher.attach(session)
        registry.subscribe(session, SYMBOLS)
    feed = SyntheticFeed(lambda quotes: None, clock=clock, rate=20, symbols=SYMBOLS)
    feed.subscribe(SYMBOLS)
    same = feed.tick()

    def run(make: bool, dispatch: bool) -> float:
        started = time.process_time()
        for _ in range(args.ticks):
            quotes: list[Quote] = feed.tick() if make else same
            if dispatch:
                dispatcher.publish(quotes)
                dispatcher.flush()
        return (time.process_time() - started) * 1e6 / args.ticks

    run(True, True)  # warm up
    feed_us, dispatch_us, both_us = run(True, False), run(False, True), run(True, True)
    deliveries = args.clients * len(SYMBOLS)
    print(f"{args.clients} clients x {len(SYMBOLS)} symbols, {args.ticks} ticks, load {os.getloadavg()[0]:.2f}")
    print("| part | CPU µs a tick | µs a client-tick | µs a delivery |\n|---|---:|---:|---:|")
    for name, us in (("feed tick", feed_us), ("dispatch + flush", dispatch_us), ("both", both_us)):
        print(f"| {name} | {us:.1f} | {us / args.clients:.2f} | {us / deliveries:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

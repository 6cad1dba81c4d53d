"""Load process: N raw WebSocket clients (plus optionally one that can stall), driven over stdio.

    python bench/fanout/client.py --port P --clients N --symbols A,B [--stall-client]

It connects every client, prints one JSON line `{"event": "ready", ...}`, then answers JSON
commands read from stdin, one reply line each:

- `{"cmd": "mark"}`: counters now, latency percentiles and per-client progress since the last mark;
- `{"cmd": "stall"}` / `{"cmd": "resume"}`: the stall client stops / restarts reading;
- `{"cmd": "wait_stalled", "timeout": S}`: wait until the stall client's connection ends;
- `{"cmd": "quit"}`: close everything and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from rawws import Stats, WsClient

Json = dict[str, Any]


def percentiles(samples: list[int]) -> Json:
    if not samples:
        return {"n": 0}
    samples.sort()
    last = len(samples) - 1

    def at(q: float) -> int:
        return samples[round(q * last)]

    return {"n": len(samples), "p50_us": at(0.5), "p90_us": at(0.9), "p99_us": at(0.99), "max_us": samples[-1]}


class Load:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.stats = Stats(sample_every=args.sample_every)
        self.stall_stats = Stats(sample_every=args.sample_every)
        self.clients: list[WsClient] = []
        self.staller: WsClient | None = None
        self.connect_errors: Counter[str] = Counter()
        self._last_frames: list[int] = []
        subscribe = json.dumps({"op": "subscribe", "symbols": args.symbols.split(",")}).encode()
        self._subscribe: bytes | None = None if args.idle else subscribe

    def _factory(self, stats: Stats) -> Callable[[], WsClient]:
        a = self.args
        return lambda: WsClient(stats, a.host, a.port, a.path, self._subscribe, a.kernel_stamps)

    async def _open(self, stats: Stats, rcvbuf: int | None) -> WsClient:
        loop = asyncio.get_running_loop()
        if rcvbuf is None:
            _, proto = await loop.create_connection(self._factory(stats), self.args.host, self.args.port)
        else:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # Before connect, so the window the client advertises stays small.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await loop.sock_connect(sock, (self.args.host, self.args.port))
            _, proto = await loop.create_connection(self._factory(stats), sock=sock)
        try:
            await asyncio.wait_for(asyncio.shield(proto.ready), self.args.connect_timeout)
        except BaseException:
            proto.close()
            raise
        return proto

    async def _open_counted(self, sem: asyncio.Semaphore, stats: Stats, rcvbuf: int | None) -> WsClient | None:
        async with sem:
            try:
                return await self._open(stats, rcvbuf)
            except (OSError, ConnectionError, TimeoutError) as exc:
                self.connect_errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
                return None

    async def connect_all(self) -> Json:
        started = time.monotonic()
        sem = asyncio.Semaphore(self.args.concurrency)
        jobs = [self._open_counted(sem, self.stats, None) for _ in range(self.args.clients)]
        if self.args.stall_client:
            jobs.append(self._open_counted(sem, self.stall_stats, self.args.rcvbuf))
        opened = await asyncio.gather(*jobs)
        if self.args.stall_client:
            self.staller = opened.pop()
        self.clients = [c for c in opened if c is not None]
        self._last_frames = [c.frames for c in self.clients]
        return {
            "event": "ready",
            "connected": len(self.clients),
            "stall_client": self.staller is not None,
            "errors": sum(self.connect_errors.values()),
            "error_samples": dict(self.connect_errors.most_common(5)),
            "connect_s": round(time.monotonic() - started, 3),
        }

    def mark(self) -> Json:
        frames_now = [c.frames for c in self.clients]
        deltas = [now - before for now, before in zip(frames_now, self._last_frames, strict=True)]
        self._last_frames = frames_now
        in_read, in_kernel = self.stats.take_from_in()
        return {
            "t": time.monotonic(),
            "frames": self.stats.frames,
            "connected": sum(c.open for c in self.clients),
            "receiving": sum(d > 0 for d in deltas),
            "min_client_frames": min(deltas, default=0),
            "max_client_frames": max(deltas, default=0),
            "errors": sum(self.connect_errors.values()),
            "disconnects": self.stats.disconnects,
            "resets": self.stats.resets,
            "close_codes": dict(Counter(self.stats.close_codes)),
            "latency": percentiles(self.stats.take_latencies()),
            "latency_in_read": percentiles(in_read),
            "latency_in_kernel": percentiles(in_kernel),
            "stalled": self._staller_state(),
        }

    def _staller_state(self) -> Json | None:
        s = self.staller
        if s is None:
            return None
        return {
            "open": s.open,
            "frames": s.frames,
            "bytes": s.bytes_received,
            "close_code": s.close_code,
            "lost_error": s.lost_error,
            "ended": s.done.done(),
        }

    def stall(self, stop_reading: bool) -> Json | None:
        if self.staller is not None:
            (self.staller.pause if stop_reading else self.staller.resume)()
        return self._staller_state()

    async def wait_stalled(self, limit_s: float) -> Json | None:
        if self.staller is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.staller.done), limit_s)
        return self._staller_state()

    def close_all(self) -> None:
        for c in [*self.clients, *([self.staller] if self.staller else [])]:
            c.close()


async def _commands(load: Load) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    actions: dict[str, Callable[[Json], Awaitable[Json | None] | Json | None]] = {
        "mark": lambda _: load.mark(),
        "stall": lambda _: load.stall(True),
        "resume": lambda _: load.stall(False),
        "wait_stalled": lambda c: load.wait_stalled(float(c.get("timeout", 10))),
    }
    for _ in range(100_000):  # bounded: the harness sends a handful of commands
        line = await reader.readline()
        if not line:
            return
        command = json.loads(line)
        if command["cmd"] == "quit":
            return
        result = actions[command["cmd"]](command)
        if asyncio.iscoroutine(result):
            result = await result
        emit({"event": command["cmd"], "result": result})


def emit(obj: Json) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def batch_reads(loop: asyncio.AbstractEventLoop, seconds: float, turns: int) -> None:
    """Block the loop for `seconds` each turn so every read finds several frames waiting.

    A read per frame costs this process far more than parsing the frame (wake-up, epoll,
    recv); letting frames gather in the kernel for a millisecond or two keeps one client
    process ahead of the server. It delays receipt by up to `seconds`, so latency runs use 0.
    """
    time.sleep(seconds)
    if turns > 0:
        loop.call_soon(batch_reads, loop, seconds, turns - 1)


async def amain(args: argparse.Namespace) -> None:
    load = Load(args)
    emit(await load.connect_all())
    if args.batch_ms > 0:
        batch_reads(asyncio.get_running_loop(), args.batch_ms / 1000, turns=int(3600_000 / args.batch_ms))
    try:
        await _commands(load)
    finally:
        load.close_all()
        await asyncio.sleep(0.1)


def main() -> None:
    p = argparse.ArgumentParser(description="raw WebSocket load clients for the fan-out bench")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--path", default="/ws")
    p.add_argument("--clients", type=int, required=True)
    p.add_argument("--symbols", required=True)
    p.add_argument("--sample-every", type=int, default=16, help="latency sample every Nth frame per client")
    p.add_argument("--stall-client", action="store_true", help="add one client that can stop reading")
    p.add_argument("--idle", action="store_true", help="clients only connect: no subscribe, ready once upgraded")
    p.add_argument("--rcvbuf", type=int, default=4096, help="SO_RCVBUF of the stall client")
    p.add_argument("--concurrency", type=int, default=64, help="handshakes in flight")
    p.add_argument("--connect-timeout", type=float, default=60.0)
    p.add_argument("--batch-ms", type=float, default=0.0, help="let frames gather this long between reads")
    p.add_argument(
        "--kernel-stamps",
        action="store_true",
        help="latency to the kernel's receipt of the data (SO_TIMESTAMPNS), not to this process's read",
    )
    asyncio.run(amain(p.parse_args()))


if __name__ == "__main__":
    main()

"""Attacks on restream on loopback, and what they cost a healthy client, in one run.

    uv run --all-packages python bench/attacks/run.py [--seconds 10] [--attacks slowloris,ping_flood,...]
        [--out bench/results/attacks.json]

One restream process (synthetic feed, default config: no tenants, the memory guard's default
budget). A healthy client subscribes to a few symbols and counts its quotes the whole time.
Each attack runs for --seconds after a quiet window of the same length; a run reports, per
attack, the healthy client's quote rate during it against the quiet window just before
(the ratio the issue's target is stated in: at least 0.95), the server's RSS growth over the
attack and its peak against the memory budget (+30 MB allowed), and what the attack left
behind (sockets still open, log bytes written).

Attacks (issue 13):
- slowloris: 500 sockets send a partial HTTP request and then one header byte every 2 s.
- ping_flood: 20 WebSocket connections send masked pings as fast as the socket takes them and
  never read.
- linger_churn: a client subscribes 100 fresh symbols and lets them go, 18 messages a second.
- deep_nesting: a client sends JSON nested 60,000 deep, as fast as the server answers.
Bounded in count and time; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import platform
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

HEALTHY_SYMBOLS = ["AAPL", "MSFT", "NVDA", "SPY", "BTC-USD"]
RATE = 20.0  # quotes a second per symbol: 100 a second for the healthy client
BUDGET_SLACK_KB = 30 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@dataclass
class Healthy:
    """A client that only reads: its quote count, sampled by the phases."""

    url: str
    quotes: int = 0
    closed: str | None = None

    async def run(self) -> None:
        try:
            async with connect(self.url, max_queue=None) as ws:
                await ws.send(json.dumps({"op": "subscribe", "symbols": HEALTHY_SYMBOLS}))
                async for message in ws:
                    if '"type":"quote"' in message if isinstance(message, str) else False:
                        self.quotes += 1
        except Exception as exc:  # reported: the healthy client must not be cut off
            self.closed = f"{type(exc).__name__}: {exc}"


# ── raw WebSocket pieces, for attackers that misbehave below the library ────────────────────


def handshake(port: int, path: str = "/ws") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def masked_frame(opcode: int, payload: bytes) -> bytes:
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def open_ws(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(handshake(port))
    await writer.drain()
    await reader.readuntil(b"\r\n\r\n")
    return reader, writer


# ── the attacks: each runs until `stop` is set and returns what it left behind ─────────────


async def slowloris(port: int, stop: asyncio.Event) -> dict[str, Any]:
    conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    for _ in range(500):
        with contextlib.suppress(OSError):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            conns.append((reader, writer))
    while not stop.is_set():
        for _, writer in conns:
            if not writer.is_closing():
                with contextlib.suppress(OSError, RuntimeError):
                    writer.write(b"X")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 2.0)
    closed = await asyncio.gather(*(_peer_closed(reader) for reader, _ in conns))
    for _, writer in conns:
        writer.close()
    return {"sockets": len(conns), "still_open_at_end": len(conns) - sum(closed)}


async def _peer_closed(reader: asyncio.StreamReader) -> bool:
    """True when the server has closed the connection (what it sent before, if anything, read)."""
    try:
        while await asyncio.wait_for(reader.read(65536), 0.5):
            pass
    except TimeoutError:
        return False
    except OSError:
        return True
    return True


async def ping_flood(port: int, stop: asyncio.Event) -> dict[str, Any]:
    ping = masked_frame(0x9, b"x" * 125)
    sent = 0

    async def one() -> None:
        nonlocal sent
        try:
            _, writer = await open_ws(port)
        except OSError:
            return
        try:
            while not stop.is_set():
                writer.write(ping * 64)
                sent += 64
                await asyncio.wait_for(writer.drain(), 1.0)
        except (OSError, TimeoutError):
            pass  # the server stopped reading us (or closed): exactly what it should do
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(20)))
    return {"connections": 20, "pings_sent": sent}


async def linger_churn(port: int, stop: asyncio.Event) -> dict[str, Any]:
    messages = 0
    async with connect(f"ws://127.0.0.1:{port}/ws", max_queue=None) as ws:
        r = 0
        while not stop.is_set():
            batch = [f"CH{r}X{i}" for i in range(100)]
            op = "subscribe" if messages % 2 == 0 else "unsubscribe"
            if op == "unsubscribe":
                batch = [f"CH{r - 1}X{i}" for i in range(100)]
            await ws.send(json.dumps({"op": op, "symbols": batch}))
            messages += 1
            r += op == "subscribe"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1 / 18)
    return {"messages": messages}


async def deep_nesting(port: int, stop: asyncio.Event) -> dict[str, Any]:
    sent = 0
    closes = 0
    deep = "[" * 60_000
    while not stop.is_set():
        try:
            async with connect(f"ws://127.0.0.1:{port}/ws", max_queue=None) as ws:
                while not stop.is_set():
                    await ws.send(deep)
                    sent += 1
                    await asyncio.wait_for(ws.recv(), 2.0)  # the error frame
        except Exception:
            closes += 1  # closed on us (rate limit, or a failure): count and go again
            await asyncio.sleep(0.05)
    return {"messages": sent, "connections_closed": closes}


ATTACKS: dict[str, Callable[[int, asyncio.Event], Awaitable[dict[str, Any]]]] = {
    "slowloris": slowloris,
    "ping_flood": ping_flood,
    "linger_churn": linger_churn,
    "deep_nesting": deep_nesting,
}


@dataclass
class Phase:
    name: str
    quiet_rate: float = 0.0
    attack_rate: float = 0.0
    rss_before_kb: int = 0
    rss_after_kb: int = 0
    rss_peak_kb: int = 0
    log_bytes: int = 0
    left: dict[str, Any] = field(default_factory=dict)


async def measure(healthy: Healthy, seconds: float, sample: Callable[[], None]) -> float:
    start_n, start_t = healthy.quotes, time.perf_counter()
    end = start_t + seconds
    while time.perf_counter() < end:
        await asyncio.sleep(0.25)
        sample()
    return (healthy.quotes - start_n) / (time.perf_counter() - start_t)


def log_size(path: str) -> int:
    """Bytes the server has written to its log (stdout and stderr go to one file)."""
    return os.path.getsize(path)


async def run(args: argparse.Namespace, proc: subprocess.Popen[bytes], port: int) -> list[Phase]:
    for _ in range(200):
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        await asyncio.sleep(0.05)
    healthy = Healthy(f"ws://127.0.0.1:{port}/ws")
    reader = asyncio.create_task(healthy.run())
    await asyncio.sleep(2.0)  # connected, subscribed, warmed up
    phases = []
    for name in args.attacks:
        phase = Phase(name)
        peak = [0]

        def sample(peak: list[int] = peak) -> None:
            peak[0] = max(peak[0], rss_kb(proc.pid))

        phase.quiet_rate = await measure(healthy, args.seconds, sample)
        phase.rss_before_kb = rss_kb(proc.pid)
        log_before = log_size(args.log)
        stop = asyncio.Event()
        attack = asyncio.create_task(ATTACKS[name](port, stop))
        peak[0] = 0
        phase.attack_rate = await measure(healthy, args.seconds, sample)
        stop.set()
        phase.left = await asyncio.wait_for(attack, 30)
        phase.rss_after_kb = rss_kb(proc.pid)
        phase.rss_peak_kb = peak[0]
        phase.log_bytes = log_size(args.log) - log_before
        phases.append(phase)
        print(report_line(phase), flush=True)
        await asyncio.sleep(args.seconds / 2)  # let the server settle before the next quiet window
    if healthy.closed:
        print(f"healthy client was cut off: {healthy.closed}")
    reader.cancel()
    return phases


def report_line(p: Phase) -> str:
    ratio = p.attack_rate / p.quiet_rate if p.quiet_rate else 0.0
    return (
        f"| {p.name} | {p.quiet_rate:,.1f} | {p.attack_rate:,.1f} | {ratio:.2f} | "
        f"{(p.rss_after_kb - p.rss_before_kb) / 1024:+.1f} | {p.rss_peak_kb / 1024:.1f} | "
        f"{p.log_bytes:,} | {json.dumps(p.left)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=10.0, help="each quiet window and each attack")
    parser.add_argument("--attacks", type=lambda s: s.split(","), default=list(ATTACKS), help=",".join(ATTACKS))
    parser.add_argument("--log", default="bench/results/attacks-restream.log", help="restream's log")
    parser.add_argument("--out", type=Path, default=Path("bench/results/attacks.json"))
    args = parser.parse_args(argv)
    Path(args.log).parent.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print("| attack | healthy quotes/s before | during | ratio | RSS growth MB | RSS peak MB | log bytes | left |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    port = free_port()
    with open(args.log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "servers.restream", "--port", str(port), "--rate", str(RATE)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        phases = asyncio.run(run(args, proc, port))
    finally:
        proc.terminate()
        proc.wait(10)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps([p.__dict__ for p in phases], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

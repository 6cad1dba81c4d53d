"""The kernel's floor under a delivery: CPU of one process that does nothing but send() one
tick's frames, coalesced, to each of N loopback TCP connections (a child process drains them).

    uv run --all-packages python bench/fanout/write_floor.py [--clients 100] [--frames 1,10] [--ticks 2000]
        [--rate 20]

Without --rate the ticks go back to back (a pause of 1 ms every 20), so the reader is busy and
the sender never sleeps: the floor at saturation. With --rate the ticks are paced as the bench's
low-load scenario paces them (20 a second): between ticks both processes sleep, and each tick's
first send to a sleeping reader pays for waking it, as a desk-sized load does.

On loopback the sender's send() also runs the receiver's TCP processing, so this is what a
delivery costs a fan-out server before any Python of its own: the least server CPU µs/msg any
server written on sockets can reach at that many frames per write (issue 16's low-load figure).
"""

from __future__ import annotations

import argparse
import os
import resource
import selectors
import socket
import sys
import time

# A quote frame as restream writes it: a 2-byte-length text frame header and ~250 bytes of JSON.
QUOTE = (
    b'{"type":"quote","symbol":"AAPL","price":189.25,"change":1.2,"change_percent":0.64,'
    b'"day_volume":51234567,"market_hours":"regular","currency":"USD","exchange":"NMS",'
    b'"ts_upstream":1736509140000000,"ts_library_in":1736509140000123,"ts_library_out":1736509140000456}'
)
FRAME = b"\x81\x7e" + len(QUOTE).to_bytes(2, "big") + QUOTE


def drain(port: int, clients: int) -> None:
    """The child: connect `clients` times and read everything until the parent closes."""
    sel = selectors.DefaultSelector()
    for _ in range(clients):
        conn = socket.create_connection(("127.0.0.1", port))
        conn.setblocking(False)
        sel.register(conn, selectors.EVENT_READ)
    buf = bytearray(1 << 20)
    open_count = clients
    while open_count:
        for key, _ in sel.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                if sock.recv_into(buf) == 0:
                    sel.unregister(sock)
                    open_count -= 1
            except BlockingIOError:
                pass
    os._exit(0)


def _pin(cpu: int) -> None:
    """As bench/fanout places its processes: the server on CPU 0, the load on CPU 1."""
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(clients: int, frames: int, ticks: int, rate: float | None = None) -> float:
    """CPU µs per send of `frames` frames to each of `clients` connections; with `rate`, the
    ticks `1 / rate` s apart."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=clients)
    port = listener.getsockname()[1]
    child = os.fork()
    if child == 0:
        listener.close()
        _pin(1)
        drain(port, clients)
    _pin(0)
    conns = [listener.accept()[0] for _ in range(clients)]
    listener.close()
    for conn in conns:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    payload = FRAME * frames
    started = cpu_s()
    next_at = time.monotonic()
    for tick in range(ticks):
        for conn in conns:
            conn.sendall(payload)
        if rate is not None:
            next_at += 1.0 / rate
            time.sleep(max(0.0, next_at - time.monotonic()))
        elif tick % 20 == 19:
            time.sleep(0.001)  # let the reader keep up, as between a gateway's ticks
    spent = cpu_s() - started
    for conn in conns:
        conn.close()
    os.waitpid(child, 0)
    return spent * 1e6 / (ticks * clients)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--frames", default="1,10", help="frames per write, comma-separated")
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=None, help="ticks a second (default: back to back)")
    args = parser.parse_args()
    paced = f"{args.rate:g} ticks/s" if args.rate else "ticks back to back"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, {args.clients} connections, {paced}")
    print("| frames per write | CPU µs per send | CPU µs per delivered frame |\n|---:|---:|---:|")
    for frames in (int(f) for f in args.frames.split(",")):
        per_send = measure(args.clients, frames, args.ticks, args.rate)
        print(f"| {frames} | {per_send:.2f} | {per_send / frames:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

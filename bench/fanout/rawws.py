"""A cheap WebSocket load client: raw `asyncio.BufferedProtocol`, minimal RFC 6455 framing.

It does the HTTP/1.1 upgrade itself, sends its subscribe message as a masked text frame,
then only counts the server's text frames, samples latency from every Nth one
(`"ts_library_out":<µs>` found with a compiled regex, no json.loads), answers pings and
close frames. Counters go into a shared `Stats` so one process can run thousands of these.

Reads land in one buffer shared by every client of the process (`recv_into`): asyncio's plain
Protocol path allocates a 256 KiB bytes object per read, which cost more than the parsing.

Receipt time, for latency, is by default the time this process got to the read. With
`kernel_stamps` it is the time the kernel received the data (SO_TIMESTAMPNS, read with
`recvmsg` instead of through the transport): one process serving a hundred clients reads them
one after another, and the later ones would otherwise be charged for the reads before them.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import socket
import struct
import time
from dataclasses import dataclass, field

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TS_OUT = re.compile(rb'"ts_library_out":(\d+)')
_TS_IN = re.compile(rb'"ts_library_in":(\d+)')
_MAX_SAMPLES = 2_000_000
_SHARED = memoryview(bytearray(256 * 1024))  # each read is parsed before the next one starts

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_FIN_TEXT = 0x80 | OP_TEXT  # a whole text message in one frame: all our servers send
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; SCM_TIMESTAMPNS is the same number
_STAMP = struct.Struct("qq")  # struct timespec


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR `payload` with the 4-byte `key` repeated (RFC 6455 §5.3)."""
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A FIN, masked client-to-server frame."""
    key = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    return header + key + mask(payload, key)


def upgrade_request(host: str, port: int, path: str) -> tuple[bytes, bytes]:
    """The HTTP/1.1 upgrade request and the Sec-WebSocket-Accept value it must get back."""
    key = base64.b64encode(os.urandom(16))
    accept = base64.b64encode(hashlib.sha1(key + _GUID).digest())
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    return request, accept


@dataclass
class Stats:
    """Counters shared by a group of clients (e.g. the normal ones, or the stalled one)."""

    sample_every: int = 16
    frames: int = 0
    bytes: int = 0
    latencies_us: list[int] = field(default_factory=list)  # ts_library_out to receipt (kernel's when stamped)
    in_read_us: list[int] = field(default_factory=list)  # ts_library_in to this process's read
    in_kernel_us: list[int] = field(default_factory=list)  # ts_library_in to the kernel's receipt (stamped)
    handshake_failures: int = 0
    protocol_errors: int = 0
    disconnects: int = 0  # connections that ended without us asking
    resets: int = 0  # ... of which with an error (ECONNRESET and the like)
    close_codes: list[int] = field(default_factory=list)

    def take_latencies(self) -> list[int]:
        taken, self.latencies_us = self.latencies_us, []
        return taken

    def take_from_in(self) -> tuple[list[int], list[int]]:
        """(ts_library_in to the read, ts_library_in to the kernel's receipt) since the last take."""
        taken = self.in_read_us, self.in_kernel_us
        self.in_read_us, self.in_kernel_us = [], []
        return taken


class WsClient(asyncio.BufferedProtocol):
    """One load client. `ready` resolves once the handshake and the first text frame are done
    (an idle one, given no subscribe message: once the handshake is)."""

    def __init__(
        self, stats: Stats, host: str, port: int, path: str, subscribe: bytes | None, kernel_stamps: bool = False
    ) -> None:
        self.stats = stats
        self.kernel_stamps = kernel_stamps
        self.frames = 0
        self.bytes_received = 0
        self.open = False
        self.close_code: int | None = None
        self.lost_error: str | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._request, self._accept = upgrade_request(host, port, path)
        # None: an idle client, ready once upgraded, that sends nothing and expects nothing.
        self._subscribe = None if subscribe is None else client_frame(OP_TEXT, subscribe)
        self._transport: asyncio.Transport | None = None
        self._handshaking = True
        self._rest = b""
        self._closing = False
        self._countdown = stats.sample_every
        self._rx_us = 0  # the kernel's receipt time of the data being parsed (kernel_stamps)
        self._stamped: socket.socket | None = None  # our own handle on the socket, for recvmsg

    # -- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        if self.kernel_stamps:
            transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        transport.write(self._request)

    def get_buffer(self, sizehint: int) -> memoryview:
        return _SHARED

    def buffer_updated(self, nbytes: int) -> None:
        self.bytes_received += nbytes
        data = self._rest + _SHARED[:nbytes] if self._rest else _SHARED[:nbytes].tobytes()
        if self._handshaking:
            data = self._handshake(data)
            if self._handshaking:
                self._rest = data
                return
        self._rest = self._frames(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_stamped_reads()
        self.open = False
        if not self._closing:
            self.stats.disconnects += 1
            if exc is not None:
                self.stats.resets += 1
                self.lost_error = type(exc).__name__
        self._fail_ready(ConnectionError(f"connection lost during handshake: {exc!r}"))
        if not self.done.done():
            self.done.set_result(None)

    # -- control ----------------------------------------------------------------------------

    def pause(self) -> None:
        if self._stamped is not None:
            asyncio.get_running_loop().remove_reader(self._stamped.fileno())
        elif self._transport is not None:
            self._transport.pause_reading()

    def resume(self) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        if self._stamped is not None:
            asyncio.get_running_loop().add_reader(self._stamped.fileno(), self._read_stamped)
        else:
            self._transport.resume_reading()

    def close(self) -> None:
        """Leave without ceremony (the harness is done with this client)."""
        self._closing = True
        if self._transport is not None:
            self._transport.abort()

    # -- internals --------------------------------------------------------------------------

    def _handshake(self, data: bytes) -> bytes:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > 16384:
                self._reject(data[:80])
            return data
        head = data[:end]
        if not head.startswith(b"HTTP/1.1 101") or self._accept not in head:
            self._reject(head[:80])
            return b""
        self._handshaking = False
        self.open = True
        assert self._transport is not None
        if self._subscribe is not None:
            self._transport.write(self._subscribe)
        elif not self.ready.done():
            self.ready.set_result(None)
        if self.kernel_stamps:
            self._start_stamped_reads()
        return data[end + 4 :]

    def _start_stamped_reads(self) -> None:
        """From now on read with recvmsg on a duplicate of the socket, outside the transport
        (paused for reading; it still does the writes)."""
        assert self._transport is not None
        fd = self._transport.get_extra_info("socket").fileno()
        self._stamped = socket.socket(fileno=os.dup(fd))
        self._transport.pause_reading()
        asyncio.get_running_loop().add_reader(self._stamped.fileno(), self._read_stamped)

    def _stop_stamped_reads(self) -> None:
        stamped, self._stamped = self._stamped, None
        if stamped is not None:
            asyncio.get_running_loop().remove_reader(stamped.fileno())
            os.close(stamped.detach())  # our dup only: no shutdown, the transport owns the connection

    def _read_stamped(self) -> None:
        assert self._stamped is not None
        try:
            data, ancillary, _, _ = self._stamped.recvmsg(len(_SHARED), 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, ancillary = b"", []
        if not data:  # EOF or an error: let the transport see it and report the loss
            self._stop_stamped_reads()
            if self._transport is not None:
                self._transport.resume_reading()
            return
        for level, kind, value in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                seconds, nanoseconds = _STAMP.unpack_from(value)
                self._rx_us = seconds * 1_000_000 + nanoseconds // 1000
        self.bytes_received += len(data)
        self._rest = self._frames(self._rest + data if self._rest else data)

    def _reject(self, head: bytes) -> None:
        self.stats.handshake_failures += 1
        self._fail_ready(ConnectionError(f"bad upgrade response: {head!r}"))
        self.close()

    def _fail_ready(self, exc: Exception) -> None:
        if not self.ready.done():
            self.ready.set_exception(exc)

    def _frames(self, data: bytes) -> bytes:
        """Consume complete frames from `data`; return the incomplete tail.

        The hot loop of the load process: one pass per frame, the common case (an unmasked
        FIN text frame, 7- or 16-bit length) with as few operations as possible.
        """
        n = len(data)
        pos = 0
        texts = 0
        countdown = self._countdown
        read_us = 0
        while n - pos >= 2:
            length = data[pos + 1]
            if length < 126:
                start = pos + 2
            elif length == 126:
                if n - pos < 4:
                    break
                start = pos + 4
                length = (data[pos + 2] << 8) | data[pos + 3]
            elif length == 127:
                if n - pos < 10:
                    break
                start = pos + 10
                length = int.from_bytes(data[pos + 2 : start], "big")
            else:  # the mask bit: servers must not mask (RFC 6455 §5.1)
                self._protocol_error()
                return b""
            end = start + length
            if end > n:
                break
            if data[pos] == _FIN_TEXT:
                texts += 1
                countdown -= 1
                if not countdown:
                    countdown = self.stats.sample_every
                    read_us = read_us or time.time_ns() // 1000
                    self._sample(data, start, end, read_us, self._rx_us)
            elif data[pos] & 0x0F >= OP_CLOSE:
                self._control(data[pos] & 0x0F, data[start:end])
            pos = end
        self._countdown = countdown
        if texts:
            self.frames += texts
            self.stats.frames += texts
            if not self.ready.done():
                self.ready.set_result(None)
        return data[pos:] if pos < n else b""

    def _protocol_error(self) -> None:
        self.stats.protocol_errors += 1
        self._fail_ready(ConnectionError("masked frame from the server"))
        if self._transport is not None:
            self._transport.abort()

    def _sample(self, data: bytes, start: int, end: int, read_us: int, kernel_us: int) -> None:
        stats = self.stats
        if len(stats.latencies_us) >= _MAX_SAMPLES:
            return
        out = _TS_OUT.search(data, start, end)
        if out is not None:
            stats.latencies_us.append((kernel_us or read_us) - int(out.group(1)))
        tick = _TS_IN.search(data, start, end)
        if tick is not None:
            ts_in = int(tick.group(1))
            stats.in_read_us.append(read_us - ts_in)
            if kernel_us:
                stats.in_kernel_us.append(kernel_us - ts_in)

    def _control(self, opcode: int, payload: bytes) -> None:
        assert self._transport is not None
        if opcode == OP_PING:
            self._transport.write(client_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self.close_code = code
            self.stats.close_codes.append(code)
            if not self._transport.is_closing():
                self._transport.write(client_frame(OP_CLOSE, payload[:2]))
                self._transport.close()

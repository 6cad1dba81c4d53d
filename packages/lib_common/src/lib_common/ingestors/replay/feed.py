"""ReplayFeed: recorded day files served again as a live feed (the thin I/O around the policy).

The replay begins with the first subscription and goes through the files in order, at `speed`
times the recorded pace (`pacing.Pacer`); at speed 0 it goes as fast as the clients take it:
before each batch it waits while `ready()` says a client is backlogged, so that nothing is
conflated away. While no symbol is subscribed it pauses where it is (and paces on from there).
Only subscribed symbols are sent. At the end it stops (state idle, reason "replay finished"),
or with `loop` begins again, every pass after the first moved later by whole days (the
recording's span rounded up to days) so that clients that keep each symbol in time order take
the new pass as new quotes.

Stamps, as a live feed's: ts_upstream and every value as recorded; ts_library_in the moment the
quote falls due (the replay's start plus its recorded offset over the speed; at speed 0 the
moment it was read off the file), ts_library_out when its frame is built for dispatch.
Files are read in a thread, a chunk ahead of the loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from operator import itemgetter
from pathlib import Path

from lib_common.clock import Clock, sleep
from lib_common.core.frame import Frame
from lib_common.core.tasks import BackgroundTask
from lib_common.core.upstream_manager import Transition
from lib_common.core.upstream_policy import UpstreamState
from lib_common.ingestors.replay.pacing import Pacer
from lib_common.ingestors.replay.records import Recorded, frames, parse_lines
from lib_common.ingestors.replay.sources import LineReader

log = logging.getLogger(__name__)

DAY_US = 86_400 * 1_000_000
BATCH = 256  # frames a dispatch at speed 0; between batches the loop writes to the sockets
BACKLOG_POLL_S = 0.001
_TS_UPSTREAM = itemgetter(1)  # of a Recorded


class ReplayFeed(BackgroundTask):
    def __init__(
        self,
        files: Sequence[Path],
        sink: Callable[[list[Frame]], None],
        *,
        clock: Clock,
        speed: float = 1.0,
        loop: bool = False,
        max_gap_s: float | None = None,
        ready: Callable[[], bool] = lambda: True,
        on_transition: Callable[[Transition], None] | None = None,
    ) -> None:
        super().__init__(self.run, name="replay-feed")
        if not files:
            raise ValueError("a replay needs at least one file")
        self.files = list(files)
        self._sink = sink
        self._clock = clock
        self.speed = speed
        self.loop = loop
        self._pacer = Pacer(speed, max_gap_s)
        self._ready = ready
        self._on_transition = on_transition
        self._active: set[str] = set()
        self._wanted = asyncio.Event()
        self._state = UpstreamState.IDLE
        self.reason = "waiting for the first subscription"
        # Figures
        self.file: Path | None = None
        self.lines = 0
        self.sent = 0
        self.bad: Counter[str] = Counter()
        self.file_errors: list[str] = []
        self.passes = 0
        self.position_us: int | None = None  # ts_upstream (as sent) of the newest quote sent
        self._span: tuple[int, int] | None = None  # first pass's lowest and highest ts_upstream
        self._shift = 0

    # The Feed interface

    @property
    def state(self) -> str:
        return self._state.value

    def subscribe(self, symbols: Iterable[str]) -> None:
        self._active.update(symbols)
        if self._active:
            self._wanted.set()

    def unsubscribe(self, symbols: Iterable[str]) -> None:
        self._active.difference_update(symbols)
        if not self._active:
            self._wanted.clear()

    def figures(self) -> dict[str, object]:
        return {
            "state": self.state,
            "reason": self.reason,
            "files": [str(f) for f in self.files],
            "file": None if self.file is None else str(self.file),
            "speed": self.speed,
            "loop": self.loop,
            "passes": self.passes,
            "lines": self.lines,
            "sent": self.sent,
            "bad_lines": dict(self.bad),
            "file_errors": list(self.file_errors),
            "position_us": self.position_us,
            "symbols": len(self._active),
        }

    # The task

    async def run(self) -> None:
        await self._wanted.wait()
        self._move(UpstreamState.STREAMING, f"replaying {len(self.files)} file(s) at speed {self.speed:g}")
        while True:
            for path in self.files:
                await self._play(path)
            self.passes += 1
            if not self.loop or self._span is None:
                break
            low, high = self._span
            self._shift += -(-(high - low + 1) // DAY_US) * DAY_US
            self._pacer.restart()
        self._move(UpstreamState.IDLE, f"replay finished: {self.sent} quotes sent")

    async def _play(self, path: Path) -> None:
        self.file = path
        try:
            reader = await asyncio.to_thread(LineReader, path)
        except OSError as exc:
            self._file_error(path, str(exc))
            return
        try:
            lines = await asyncio.to_thread(reader.chunk)
            while lines or not reader.done:
                ahead = None if reader.done else asyncio.ensure_future(asyncio.to_thread(reader.chunk))
                try:
                    await self._emit(self._parse(lines))
                except BaseException:
                    if ahead is not None:
                        await asyncio.wait([ahead])  # the thread must be done with the file before it closes
                    raise
                lines = [] if ahead is None else await ahead
        finally:
            if reader.too_long:
                self.bad["too_long"] += reader.too_long
            if reader.truncated:
                self._file_error(path, f"stopped after {reader.bytes_read} bytes inflated (a gzip bomb?)")
            if reader.error is not None:
                self._file_error(path, reader.error)
            await asyncio.to_thread(reader.close)

    def _parse(self, lines: list[bytes]) -> list[Recorded]:
        bad = self.bad
        before = sum(bad.values())
        out = parse_lines(lines, bad)
        if sum(bad.values()) > before and not before:
            log.warning("%s: skipping lines that are not quotes (counted in /status: bad_lines)", self.file)
        self.lines += len(lines)
        if self.passes == 0 and out:
            low = min(map(_TS_UPSTREAM, out))
            high = max(map(_TS_UPSTREAM, out))
            span = self._span
            self._span = (low, high) if span is None else (min(span[0], low), max(span[1], high))
        return out

    async def _emit(self, records: list[Recorded]) -> None:
        if self.speed == 0:
            await self._emit_fast(records)
        else:
            await self._emit_paced(records)

    async def _emit_fast(self, records: list[Recorded]) -> None:
        received = self._clock.now_us()
        for start in range(0, len(records), BATCH):
            await self._until_wanted()
            while not self._ready():
                await sleep(self._clock, BACKLOG_POLL_S)
            self._send(records[start : start + BATCH], received)
            await asyncio.sleep(0)  # the dispatcher's flush writes them out

    async def _emit_paced(self, records: list[Recorded]) -> None:
        clock, pacer = self._clock, self._pacer
        batch: list[Recorded] = []
        dues: list[int] = []
        now = clock.now_us()
        for record in records:
            if not self._active:
                self._send(batch, dues)
                batch, dues = [], []
                await self._until_wanted()
                now = clock.now_us()
            due = pacer.due_us(record[2], now)
            if due > now:
                self._send(batch, dues)
                batch, dues = [], []
                await sleep(clock, (due - now) / 1e6)
                now = clock.now_us()
                if not self._active:  # nobody wanted it meanwhile: it is due when someone does
                    await self._until_wanted()
                    now = clock.now_us()
                    due = pacer.due_us(record[2], now)
            batch.append(record)
            dues.append(due)
        self._send(batch, dues)

    def _send(self, records: list[Recorded], received: list[int] | int) -> None:
        if not records:
            return
        out = frames(records, received, self._clock.now_us(), self._active, self._shift)
        if out:
            self.sent += len(out)
            self.position_us = out[-1].ts_upstream
            self._sink(out)

    async def _until_wanted(self) -> None:
        if self._active:
            return
        self._pacer.restart()
        await self._wanted.wait()

    def _file_error(self, path: Path, message: str) -> None:
        log.error("replay: %s: %s", path, message)
        self.file_errors = [*self.file_errors[-9:], f"{path}: {message}"]

    def _move(self, target: UpstreamState, reason: str) -> None:
        source, self._state, self.reason = self._state, target, reason
        log.info("replay: %s -> %s (%s)", source.value, target.value, reason)
        if self._on_transition is not None and source is not target:
            self._on_transition(Transition(self._clock.now_us(), source, target, reason))

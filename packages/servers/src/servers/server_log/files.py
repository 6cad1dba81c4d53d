"""The file side of server_log: NDJSON day files, fsynced before the consumer acks, gzip'd
atomically when the day closes.

Each line is the quote's frame with the stream entry id put first, then the publisher's quote
id when the entry has one, `{"stream_id":"...","quote_id":"...",...}`, so a restart can tell
what it already wrote. Lines of one file are in stream order (a stream spread over shards:
in each shard's order, so each symbol's lines in publish order, shards interleaved as they were
read), and a crash can only cut a file's tail (a batch goes out in order, then every file it
touched is fsynced, then the batch is acked, and only then is the next batch written:
servers.durable.consumer), so a redelivered entry is in a file exactly when its id is not above
the last id of its shard in that file. A restart learns those from each file's last line: the
only entries that can come again having been written are the last batch's, whose shard wrote
that line; another shard's pending entries are then not in the file. A frame the publisher sent
again is a new entry with a quote id already written: `resends.Resends` knows it by its seq
(per shard), and learns the seqs written before a restart from the last `RESEND_WINDOW` bytes
of each open file. Recovery drops a torn last line,
finishes or discards an interrupted gzip, and closes the days that ended while the server was
down.

Closing day D: D.ndjson → D.ndjson.gz.tmp (gzip, fsync) → rename to D.ndjson.gz → remove
D.ndjson; a crash at any step leaves either the plain file, or a complete .gz (and maybe the
plain one, removed on recovery).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import re
import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from lib_common.clock import Clock
from lib_common.errors import BusMessageError
from lib_common.fsync import fsync_dir
from lib_common.metrics import Exposition
from lib_common.redis_bus.format import decode_quote
from lib_common.redis_bus.stream import StreamEntry, id_key, shard_of
from servers.durable.consumer import WriteResult
from servers.durable.errors import SinkUnavailable
from servers.server_log.resends import Resends
from servers.server_log.rotation import RotationPolicy, file_name, ny_date, parse_file_name

log = logging.getLogger(__name__)

IdKey = tuple[int, int]
ShardIds = dict[str, IdKey]
"""A file's last stream id per shard ("" for an unsharded stream), for the shards it knows."""
T = TypeVar("T")


_TAIL_BLOCK = 65536
# How far back from the end of an open file a restart looks for the quote ids written: a resend
# follows its original within a batch or so of the stream (4 MiB: ~15,000 lines).
RESEND_WINDOW = 4 << 20
_QUOTE_ID = re.compile(rb'^\{"stream_id":"([^"\\]*)","quote_id":("[^"\\]*")', re.MULTILINE)


def ndjson_line(entry: StreamEntry) -> bytes:
    """The frame as it came (already checked by the bus's decoder) with `stream_id` first, then
    `quote_id` if any; re-encoded, same fields and values, only if it spans lines."""
    frame = entry.frame.strip()
    head = b'{"stream_id":' + json.dumps(entry.id).encode()
    if entry.quote_id is not None:
        head += b',"quote_id":' + json.dumps(entry.quote_id).encode()
    if b"\n" in frame or b"\r" in frame:
        frame = json.dumps(json.loads(frame), separators=(",", ":")).encode()
    rest = frame[1:].lstrip()
    return head + (b"}" if rest.startswith(b"}") else b"," + rest) + b"\n"


def line_id(line: bytes) -> tuple[str, IdKey] | None:
    """(shard, id) of a line's stream id."""
    try:
        value = json.loads(line).get("stream_id")
        return (shard_of(value), id_key(value)) if isinstance(value, str) else None
    except (ValueError, AttributeError):
        return None


def last_ids(last_line: bytes | None) -> ShardIds:
    """What a file's last line tells: the last id of that line's shard."""
    found = line_id(last_line) if last_line else None
    return dict([found]) if found else {}


def repair_tail(path: Path) -> ShardIds:
    """Cut a torn last line (a crash mid-write); the last whole line's `last_ids`."""
    with path.open("r+b") as f:
        end = f.seek(0, os.SEEK_END)
        pos, tail = end, b""
        while pos > 0:
            step = min(_TAIL_BLOCK, pos)
            pos -= step
            f.seek(pos)
            tail = f.read(step) + tail
            if tail.count(b"\n") >= 2 or (pos == 0 and b"\n" in tail):
                break
        if not tail:
            return {}
        cut = tail.rfind(b"\n") + 1
        if cut != len(tail):
            log.warning("%s: dropping a torn last line (%d bytes)", path, len(tail) - cut)
            f.truncate(pos + cut)
            f.flush()
            os.fsync(f.fileno())
        lines = tail[:cut].splitlines()
        return last_ids(lines[-1] if lines else None)


def tail_quote_ids(path: Path, window: int = RESEND_WINDOW) -> list[tuple[str, str]]:
    """(shard, quote id) of the lines in the last `window` bytes of `path`, in file order."""
    with path.open("rb") as f:
        end = f.seek(0, os.SEEK_END)
        f.seek(max(0, end - window))
        tail = f.read(window)
    if end > window:
        tail = tail[tail.find(b"\n") + 1 :]  # the first line is cut: skip it
    return [(shard_of(sid.decode()), json.loads(qid)) for sid, qid in _QUOTE_ID.findall(tail)]


def gzip_last_ids(path: Path) -> ShardIds:
    last = None
    with gzip.open(path, "rb") as f:
        for line in f:
            last = line
    return last_ids(last)


class DayFile:
    def __init__(self, path: Path, last_ids: ShardIds) -> None:
        self.path = path
        self.last_ids = last_ids
        self.handle: BinaryIO | None = None


class LogSink:
    writers = 1  # lines go out in stream order, one batch unacked at most: recovery relies on it

    def __init__(self, directory: Path, clock: Clock, policy: RotationPolicy | None = None) -> None:
        self.directory = directory
        self.clock = clock
        self.policy = policy or RotationPolicy()
        self.open_days: dict[date, DayFile] = {}
        self._closed_last: dict[date, ShardIds] = {}
        self._busy: asyncio.Future[Any] | None = None
        self.resends = Resends()
        self.lines = 0
        self.late = 0
        self.closed = 0

    # ── the Sink interface ─────────────────────────────────────────────────────────────────

    async def open(self) -> None:
        await self._io(self.recover)

    async def write(self, entries: list[StreamEntry], redelivered: bool) -> WriteResult:
        return await self._io(lambda: self.write_batch(entries, redelivered))

    async def maintain(self) -> None:
        now = self.clock.now_us()
        if any(self.policy.is_closed(day, now) for day in self.open_days):
            await self._io(self.close_due)

    async def close(self) -> None:
        busy, self._busy = self._busy, None
        if busy is not None and not busy.done():  # a write whose caller was cancelled, still running
            await asyncio.wait([busy])
        for day_file in self.open_days.values():
            if day_file.handle is not None:
                day_file.handle.close()
                day_file.handle = None

    async def _io(self, work: Callable[[], T]) -> T:
        """File work runs in a thread (fsync and gzip block); OSError means the sink failed. A
        cancelled caller does not stop the thread, so `close` waits for it: recovery never runs
        beside a write."""
        job = asyncio.ensure_future(asyncio.to_thread(work))
        self._busy = job
        try:
            return await asyncio.shield(job)
        except OSError as exc:
            raise SinkUnavailable(f"{self.directory}: {exc}") from exc

    # ── the work itself (blocking) ─────────────────────────────────────────────────────────

    def recover(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        gzipped: set[date] = set()
        plain: dict[date, Path] = {}
        for path in sorted(self.directory.iterdir()):
            if path.name.endswith(".gz.tmp"):
                log.warning("%s: removing an interrupted gzip", path)
                path.unlink()
                continue
            parsed = parse_file_name(path.name)
            if parsed is not None:
                day, is_gz = parsed
                if is_gz:
                    gzipped.add(day)
                else:
                    plain[day] = path
        self.open_days.clear()
        self.resends.clear()
        for day, path in plain.items():
            if day in gzipped:  # the gzip completed; only removing the plain file did not
                path.unlink()
                continue
            self.open_days[day] = DayFile(path, repair_tail(path))
            for shard, quote_id in tail_quote_ids(path):
                self.resends.note(quote_id, shard)
        fsync_dir(self.directory)
        self.close_due()

    def write_batch(self, entries: list[StreamEntry], redelivered: bool) -> WriteResult:
        now = self.clock.now_us()
        touched: dict[date, DayFile] = {}
        written = duplicates = malformed = 0
        for entry in entries:
            try:
                ts = decode_quote(entry.frame).ts_upstream
            except BusMessageError as exc:
                malformed += 1
                log.warning("skipping entry %s: %s", entry.id, exc)
                continue
            day, late = self.policy.day_for(ts, now)
            shard, key = shard_of(entry.id), id_key(entry.id)
            if (redelivered and self._already_written(shard, key, ny_date(ts), day)) or not self.resends.note(
                entry.quote_id, shard
            ):
                duplicates += 1
                continue
            day_file = touched.get(day) or self._day_file(day)
            assert day_file.handle is not None
            day_file.handle.write(ndjson_line(entry))
            day_file.last_ids[shard] = key
            touched[day] = day_file
            written += 1
            self.late += late
        for day_file in touched.values():
            assert day_file.handle is not None
            day_file.handle.flush()
            os.fsync(day_file.handle.fileno())
        self.lines += written
        return WriteResult(written, duplicates=duplicates, malformed=malformed)

    def _day_file(self, day: date) -> DayFile:
        day_file = self.open_days.get(day)
        if day_file is None:
            day_file = self.open_days[day] = DayFile(self.directory / file_name(day), {})
        if day_file.handle is None:
            created = not day_file.path.exists()
            day_file.handle = day_file.path.open("ab")
            if created:  # the new name must survive a crash as well as the lines in it
                fsync_dir(self.directory)
        return day_file

    def _already_written(self, shard: str, key: IdKey, own_day: date, day: date) -> bool:
        """Whether a redelivered entry of `shard` is in its own day's file or any it may have
        been routed to since (a late quote goes to the oldest open day)."""
        d = own_day
        while d <= day:
            last = self._last_ids(d).get(shard)
            if last is not None and key <= last:
                return True
            d += timedelta(days=1)
        return False

    def _last_ids(self, day: date) -> ShardIds:
        if day in self.open_days:
            return self.open_days[day].last_ids
        if day not in self._closed_last:
            path = self.directory / file_name(day, gzipped=True)
            self._closed_last[day] = gzip_last_ids(path) if path.exists() else {}
        return self._closed_last[day]

    def close_due(self) -> None:
        now = self.clock.now_us()
        for day in sorted(self.open_days):
            if self.policy.is_closed(day, now):
                self._compress(day)

    def _compress(self, day: date) -> None:
        day_file = self.open_days.pop(day)
        if day_file.handle is not None:
            day_file.handle.close()
        final = self.directory / file_name(day, gzipped=True)
        tmp = final.with_name(final.name + ".tmp")
        with day_file.path.open("rb") as src, tmp.open("wb") as raw:
            with gzip.GzipFile(filename=day_file.path.name, mode="wb", fileobj=raw) as gz:
                shutil.copyfileobj(src, gz, 1 << 20)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp, final)
        fsync_dir(self.directory)
        day_file.path.unlink()
        fsync_dir(self.directory)
        self._closed_last[day] = day_file.last_ids
        self.closed += 1
        log.info("closed %s: %s", day.isoformat(), final)

    # ── reporting ──────────────────────────────────────────────────────────────────────────

    def status(self) -> dict[str, object]:
        return {
            "directory": str(self.directory),
            "open_days": [day.isoformat() for day in sorted(self.open_days)],
            "lines": self.lines,
            "late": self.late,
            "closed": self.closed,
        }

    def expose(self, out: Exposition, prefix: str) -> None:
        out.gauge(f"{prefix}_open_files", "Day files open for writing.", len(self.open_days))
        out.counter(f"{prefix}_late_total", "Quotes for a closed day, written to the oldest open day.", self.late)
        out.counter(f"{prefix}_files_closed_total", "Day files gzip'd after their NY day closed.", self.closed)

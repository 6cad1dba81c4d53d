"""Spool: the publisher's bounded on-disk queue, for frames its memory buffer cannot hold while
Redis is away or slow (the file side; the bytes are `spool_format`'s, the policy `buffer`'s).

A directory of segment files `0000000000000001.spool`, ... used by one process (an exclusive
lock on `lock`), oldest first. Records are appended to the newest segment, which is rolled at
`segment_bytes`; the whole spool never exceeds `max_bytes` on disk (`append` takes what fits).
Reading starts at the oldest segment; a batch read is only committed when Redis has it
(`commit`), so a batch lost with the connection is read again (`rewind`). A segment read to
its end and committed is deleted (the one being written too: the next append starts another).

Durability (fsync policy): appends are buffered writes on the event loop (the page cache:
microseconds, the dispatch path never waits on the disk); `sync` (the publisher runs it every
second while frames are spooled, and on stop) flushes, fsyncs each segment written since the
last sync in a worker thread, and fsyncs the directory after a segment was created. A crash of
the process loses nothing the kernel got; a crash of the machine loses at most the last
second. After a restart the spool is read from the start of its oldest segment: records of it
already sent before the crash go again (the consumers skip them by quote id), and writing
starts a new segment, never appending after a possibly torn record.

Reading back is untrusted input: a segment must start with the magic line, each read is
bounded (`READ_CHUNK`), a record's length is checked against `MAX_RECORD` before anything is
read on its word, and its checksum before it is used. A torn last record (a crash mid-write)
is dropped with a warning; a record that cannot be right drops the rest of its segment, with a
warning saying how many bytes. Neither stops the publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lib_common.fsync import fsync_dir
from lib_common.redis_bus.buffer import Outgoing
from lib_common.redis_bus.spool_format import MAGIC, MAX_RECORD, Split, encode_record, split_records

log = logging.getLogger(__name__)

SUFFIX = ".spool"
READ_CHUNK = 4 * MAX_RECORD  # one read holds the longest record, header included, whole
MIN_SEGMENT = 64 * 1024
MAX_SEGMENT = 64 * 1024 * 1024


@dataclass(slots=True)
class _Segment:
    number: int
    path: Path
    size: int  # bytes in the file (written to it, flushed or not)
    read_pos: int = 0  # committed: everything before it is in Redis

    @property
    def unread(self) -> int:
        return max(0, self.size - max(self.read_pos, len(MAGIC)))


def read_records(path: Path, start: int, end: int, most: int) -> Split:
    """Up to `most` records of `path` between `start` and `end` (one bounded read); a segment
    read from its start must begin with MAGIC, which the result's `consumed` includes."""
    with path.open("rb") as f:
        f.seek(start)
        data = f.read(min(end - start, READ_CHUNK))
    skip = 0
    if start == 0:
        if not data.startswith(MAGIC):
            return Split([], 0, 0, "not a spool segment (no magic line)")
        skip = len(MAGIC)
    split = split_records(memoryview(data)[skip:], most)
    return split._replace(consumed=split.consumed + skip)


def segment_size(max_bytes: int) -> int:
    return max(MIN_SEGMENT, min(MAX_SEGMENT, max_bytes // 16))


class Spool:
    def __init__(self, directory: Path, max_bytes: int, *, segment_bytes: int | None = None) -> None:
        if max_bytes < MIN_SEGMENT:
            raise ValueError(f"a spool needs at least {MIN_SEGMENT} bytes, got {max_bytes}")
        self.directory = directory
        self.max_bytes = max_bytes
        self.segment_bytes = segment_bytes or segment_size(max_bytes)
        self._segments: deque[_Segment] = deque()
        self._writer: IO[bytes] | None = None  # on the last segment
        self._unsynced: list[IO[bytes]] = []  # rolled segments' handles, closed once fsynced
        self._dir_dirty = False
        self._dirty = False
        self._read_to: int | None = None  # the uncommitted end of the last read
        self._read_count = 0
        self._lock: IO[bytes] | None = None
        # Figures
        self.bytes = 0  # on disk
        self.appended = 0
        self.appended_bytes = 0
        self.drained = 0
        self.torn = 0  # torn last records dropped (a crash mid-write)
        self.corrupt_bytes = 0  # bytes dropped as not records

    # Opening and closing (blocking: at start and stop)

    def open(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(self.directory / "lock")
        for path in sorted(self.directory.glob("*" + SUFFIX)):
            stem = path.name[: -len(SUFFIX)]
            if stem.isascii() and stem.isdigit():
                self._segments.append(_Segment(int(stem), path, path.stat().st_size))
        self.bytes = sum(s.size for s in self._segments)
        if self._segments:
            log.info("publish spool %s: %d segments, %d bytes to send", self.directory, len(self._segments), self.bytes)

    async def close(self) -> None:
        await self.sync()
        for handle in [*self._unsynced, *([self._writer] if self._writer else [])]:
            handle.close()
        self._unsynced, self._writer = [], None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # The write side (the event loop; never waits on the disk)

    @property
    def empty(self) -> bool:
        return not any(s.unread for s in self._segments)

    def append(self, records: list[Outgoing]) -> int:
        taken = 0
        for record in records:
            blob = encode_record(record)
            last = self._segments[-1] if self._writer is not None else None
            roll = last is None or last.size + len(blob) > self.segment_bytes
            if self.bytes + len(blob) + (len(MAGIC) if roll else 0) > self.max_bytes:
                break
            if roll:
                last = self._roll()
            assert self._writer is not None and last is not None
            self._writer.write(blob)
            last.size += len(blob)
            self.bytes += len(blob)
            self.appended_bytes += len(blob)
            taken += 1
        self.appended += taken
        self._dirty = self._dirty or taken > 0
        return taken

    def _roll(self) -> _Segment:
        if self._writer is not None:
            self._writer.flush()
            self._unsynced.append(self._writer)
        number = self._segments[-1].number + 1 if self._segments else 1
        segment = _Segment(number, self.directory / f"{number:016d}{SUFFIX}", len(MAGIC))
        self._writer = segment.path.open("xb")
        self._writer.write(MAGIC)
        self._segments.append(segment)
        self.bytes += len(MAGIC)
        self._dir_dirty = True
        return segment

    def flush(self) -> None:
        if self._writer is not None:
            self._writer.flush()

    async def sync(self) -> None:
        """Flush, then fsync what was written since the last sync (in a worker thread)."""
        if not self._dirty and not self._unsynced and not self._dir_dirty:
            return
        self.flush()
        rolled, self._unsynced = self._unsynced, []
        handles = [*rolled, *([self._writer] if self._writer else [])]
        dir_dirty, self._dir_dirty = self._dir_dirty, False
        self._dirty = False
        await asyncio.to_thread(_fsync_all, [h.fileno() for h in handles], self.directory if dir_dirty else None)
        for handle in rolled:
            handle.close()

    # The read side

    async def read(self, most: int) -> list[Outgoing]:
        """Up to `most` of the oldest records, not yet committed; [] when the spool is empty.
        A torn or corrupt segment tail is dropped (logged, counted) on the way."""
        self._read_to = None
        while self._segments:
            head = self._segments[0]
            if head is self._segments[-1] and self._writer is not None:
                self.flush()  # the records of the segment being written are whole once flushed
            start = head.read_pos
            if head.unread:
                split = await asyncio.to_thread(read_records, head.path, start, head.size, most)
                if split.records:
                    self._read_to = start + split.consumed
                    self._read_count = len(split.records)
                    return split.records
                self._drop_tail(head, start, split)
            self._retire(head)
        return []

    def commit(self) -> None:
        """The records of the last `read` are in Redis."""
        if self._read_to is None or not self._segments:
            return
        head = self._segments[0]
        head.read_pos, self._read_to = self._read_to, None
        self.drained += self._read_count
        if not head.unread:
            self._retire(head)

    def rewind(self) -> None:
        """The last `read` did not reach Redis: it will be read again."""
        self._read_to = None

    def _drop_tail(self, head: _Segment, start: int, split: Split) -> None:
        lost = head.size - start - split.consumed
        if split.corrupt is not None:
            self.corrupt_bytes += lost
            at = start + split.consumed
            log.warning(
                "publish spool %s: %s at byte %d; dropping its last %d bytes", head.path, split.corrupt, at, lost
            )
        elif lost:
            self.torn += 1
            log.warning("publish spool %s: dropping a torn last record (%d bytes)", head.path, lost)
        head.read_pos = head.size

    def _retire(self, head: _Segment) -> None:
        """Delete the head segment once read to its end (the one being written too: the next
        append starts a new one)."""
        if head.unread:
            return
        if head is self._segments[-1] and self._writer is not None:
            self._unsynced.append(self._writer)
            self._writer = None
        self._segments.popleft()
        self.bytes -= head.size
        with contextlib.suppress(FileNotFoundError):
            head.path.unlink()
        self._dir_dirty = True

    def figures(self) -> dict[str, object]:
        return {
            "dir": str(self.directory),
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
            "segments": len(self._segments),
            "appended": self.appended,
            "appended_bytes": self.appended_bytes,
            "drained": self.drained,
            "torn": self.torn,
            "corrupt_bytes": self.corrupt_bytes,
        }


def _fsync_all(fds: list[int], directory: Path | None) -> None:
    for fd in fds:
        os.fsync(fd)
    if directory is not None:
        fsync_dir(directory)


def _lock(path: Path) -> IO[bytes]:
    """An exclusive lock on `path` for this process's life: two publishers on one spool would
    interleave their segments."""
    handle = path.open("ab")
    try:
        import fcntl
    except ImportError:  # Windows: no flock; the one-process rule is the operator's
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise OSError(f"publish spool {path.parent} is in use by another process: {exc}") from exc
    return handle

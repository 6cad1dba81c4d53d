"""Where a replay reads from: day files found by name, read in bounded chunks (thin I/O).

`day_files(paths, first, last)` turns what the user named (files, and directories holding
server_log's `quotes-YYYY-MM-DD.ndjson[.gz]`) into the files to replay, in order: a named file
as it is, a directory's day files by date, within `first`..`last` when given (inclusive). For a
day present both plain and gzip'd (server_log was closing it) the .gz is the complete one.

`LineReader` reads one file, plain or gzip'd (told by its magic bytes, not its name), in chunks
and splits them into lines, with the untrusted-input bounds: a line longer than
`max_line_bytes` is cut out and counted (memory never holds more than a chunk and one line), and
a gzip member that inflates past `max_bytes` (default: 200 times the compressed size, at least
64 MiB; NDJSON of quotes compresses about 10 times) stops the file there, so a gzip bomb costs bounded
time and no memory.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import BinaryIO

DAY_FILE = re.compile(r"^quotes-(\d{4}-\d{2}-\d{2})\.ndjson(\.gz)?$")
GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 64 * 1024
MIN_INFLATE_LIMIT = 64 << 20
INFLATE_RATIO = 200


def day_of(path: Path) -> date | None:
    """The New York day a server_log file holds, from its name; None for any other name."""
    match = DAY_FILE.match(path.name)
    if match is None:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def day_files(paths: Iterable[Path], first: date | None = None, last: date | None = None) -> list[Path]:
    """The files to replay, in order (FileNotFoundError for a path that does not exist)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            days: dict[date, Path] = {}
            for child in path.iterdir():
                day = day_of(child)
                if day is None or (first is not None and day < first) or (last is not None and day > last):
                    continue
                if day not in days or child.name.endswith(".gz"):
                    days[day] = child
            out += [days[day] for day in sorted(days)]
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or directory")
    return out


class LineReader:
    """Lines of one file, a chunk at a time (blocking: run it in a thread)."""

    def __init__(self, path: Path, *, max_line_bytes: int = MAX_LINE_BYTES, max_bytes: int | None = None) -> None:
        self.path = path
        self.max_line_bytes = max_line_bytes
        raw: BinaryIO = path.open("rb")
        self.gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        size = path.stat().st_size
        self.max_bytes = max_bytes if max_bytes is not None else max(MIN_INFLATE_LIMIT, INFLATE_RATIO * size)
        self._file: BinaryIO = gzip.GzipFile(fileobj=raw, mode="rb") if self.gzipped else raw  # type: ignore[assignment]
        self._raw = raw
        self._tail = b""
        self._skipping = False  # inside a line already counted as too long
        self.bytes_read = 0
        self.too_long = 0
        self.truncated = False  # stopped at max_bytes
        self.error: str | None = None  # why the file ended early (a damaged gzip), if it did
        self.done = False

    def chunk(self) -> list[bytes]:
        """The next whole lines (without newlines); [] only at the end (then `done`)."""
        while not self.done:
            data = self._read()
            if not data:
                self._finish()
                lines = [] if self._skipping or not self._tail else [self._tail]
                self._tail = b""
                return self._bounded(lines)
            if self._skipping:  # the rest of a line already counted as too long
                end = data.find(b"\n")
                if end < 0:
                    continue
                data, self._skipping = data[end + 1 :], False
            lines = data.split(b"\n")
            lines[0] = self._tail + lines[0]
            self._tail = lines.pop()
            if len(self._tail) > self.max_line_bytes:
                self.too_long += 1
                self._tail, self._skipping = b"", True
            lines = self._bounded(lines)
            if lines:
                return lines
        return []

    def _bounded(self, lines: list[bytes]) -> list[bytes]:
        limit = self.max_line_bytes
        long = [line for line in lines if len(line) > limit]
        if not long:
            return lines
        self.too_long += len(long)
        return [line for line in lines if len(line) <= limit]

    def _read(self) -> bytes:
        if self.bytes_read >= self.max_bytes:
            self.truncated = True
            return b""
        try:
            data = self._file.read(min(CHUNK_BYTES, self.max_bytes - self.bytes_read))
        except (OSError, EOFError, gzip.BadGzipFile) as exc:  # a damaged or cut gzip: keep what came
            self.error = f"{type(exc).__name__}: {exc}"
            return b""
        self.bytes_read += len(data)
        return data

    def _finish(self) -> None:
        self.done = True
        self.close()

    def close(self) -> None:
        self._file.close()
        self._raw.close()

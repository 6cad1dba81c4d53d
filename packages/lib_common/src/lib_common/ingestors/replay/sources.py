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
time and no memory. A damaged or cut gzip ends the file where the damage is, saying why.

Inflating is a fifth of a fast replay's time with zlib; ISA-L's inflater (python-isal, the
`isal` extra) does the same three times as fast, so it is used when installed (`INFLATERS`).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import BinaryIO, cast

Inflater = Callable[[BinaryIO], BinaryIO]  # a gzip'd stream -> the inflated one


def _zlib_inflater(raw: BinaryIO) -> BinaryIO:
    return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]


# Each inflater, and what it raises for damaged data besides OSError and EOFError.
INFLATERS: dict[str, tuple[Inflater, tuple[type[Exception], ...]]] = {"zlib": (_zlib_inflater, (zlib.error,))}
try:
    from isal import igzip, isal_zlib

    def _isal_inflater(raw: BinaryIO) -> BinaryIO:
        return igzip.IGzipFile(fileobj=raw, mode="rb")  # type: ignore[no-untyped-call,return-value]

    # isal's stubs declare its error an instance; it is the class of what IGzipFile raises.
    INFLATERS["isal"] = (_isal_inflater, (cast(type[Exception], isal_zlib.error), zlib.error))
    INFLATER = "isal"
except ImportError:  # the `isal` extra is not installed
    INFLATER = "zlib"

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

    def __init__(
        self,
        path: Path,
        *,
        max_line_bytes: int = MAX_LINE_BYTES,
        max_bytes: int | None = None,
        inflater: str = INFLATER,
    ) -> None:
        self.path = path
        self.max_line_bytes = max_line_bytes
        raw: BinaryIO = path.open("rb")
        self.gzipped = raw.read(2) == GZIP_MAGIC
        raw.seek(0)
        size = path.stat().st_size
        self.max_bytes = max_bytes if max_bytes is not None else max(MIN_INFLATE_LIMIT, INFLATE_RATIO * size)
        inflate, damage = INFLATERS[inflater]
        self._damage: tuple[type[Exception], ...] = (OSError, EOFError, *damage)
        self._file = inflate(raw) if self.gzipped else raw
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
        if not lines or max(map(len, lines)) <= limit:
            return lines
        kept = [line for line in lines if len(line) <= limit]
        self.too_long += len(lines) - len(kept)
        return kept

    def _read(self) -> bytes:
        if self.bytes_read >= self.max_bytes:
            self.truncated = True
            return b""
        try:
            data = self._file.read(min(CHUNK_BYTES, self.max_bytes - self.bytes_read))
        except self._damage as exc:  # a damaged or cut gzip: keep what came
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

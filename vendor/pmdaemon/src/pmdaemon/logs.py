"""`pmdaemon logs`: the last lines of a service's log files, and following them as they grow.

A service logs to one file (stderr merged into stdout, the default) or two; with two, each is
shown under a `==> FILE <==` header, as tail(1) does. Following survives rotation: a file that
shrinks or is replaced is read again from its start.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path


def tail(path: Path, lines: int) -> str:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=max(lines, 0)))
    except FileNotFoundError:
        return ""


def show(paths: Sequence[Path], lines: int) -> str:
    if len(paths) == 1:
        return tail(paths[0], lines)
    return "\n".join(f"==> {path} <==\n{tail(path, lines)}" for path in paths)


class _Followed:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.inode, self.offset = self._stat()

    def _stat(self) -> tuple[int | None, int]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None, 0
        return st.st_ino, st.st_size

    def new_text(self) -> str:
        inode, size = self._stat()
        if inode is None:
            return ""
        if inode != self.inode or size < self.offset:  # rotated or truncated
            self.inode, self.offset = inode, 0
        if size == self.offset:
            return ""
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(size - self.offset)
        # Whole lines only; a partial last line waits for its end.
        cut = data.rfind(b"\n") + 1
        self.offset += cut
        return data[:cut].decode("utf-8", errors="replace")


def follow(
    paths: Sequence[Path],
    write: Callable[[str], object],
    *,
    interval_s: float = 0.2,
    keep_going: Callable[[], bool] = lambda: True,
) -> None:
    """Write what is appended to `paths` from now on, until `keep_going()` is false."""
    followed = [_Followed(path) for path in paths]
    last: Path | None = paths[0] if len(paths) == 1 else None
    while keep_going():
        for item in followed:
            text = item.new_text()
            if not text:
                continue
            if item.path != last:
                write(f"\n==> {item.path} <==\n")
                last = item.path
            write(text)
        time.sleep(interval_s)

"""Process facts read from Linux's /proc (no psutil): parents, RSS, and whole-tree RSS."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _stat_fields(stat: str) -> list[str]:
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last ')'.
    return stat[stat.rindex(")") + 2 :].split()


class ProcFS:
    """Reads /proc (or a copy of it under `root`, for tests)."""

    def __init__(self, root: Path = Path("/proc")) -> None:
        self.root = root

    def parents(self) -> dict[int, int]:
        """pid -> parent pid of every process visible now."""
        out: dict[int, int] = {}
        for entry in os.scandir(self.root):
            if not entry.name.isdigit():
                continue
            try:
                fields = _stat_fields((self.root / entry.name / "stat").read_text())
            except (OSError, ValueError):
                continue  # exited meanwhile
            out[int(entry.name)] = int(fields[1])  # field 4 (ppid) is the second after the name
        return out

    def rss_bytes(self, pid: int) -> int:
        """Resident set size of one process; 0 when it is gone."""
        try:
            statm = (self.root / str(pid) / "statm").read_text().split()
        except OSError:
            return 0
        return int(statm[1]) * PAGE_SIZE

    def alive(self, pid: int) -> bool:
        return (self.root / str(pid)).exists()

    def start_ticks(self, pid: int) -> int | None:
        """Start time of `pid` in clock ticks since boot (field 22), to tell reused pids apart."""
        try:
            return int(_stat_fields((self.root / str(pid) / "stat").read_text())[19])
        except (OSError, ValueError, IndexError):
            return None


def descendants(root_pid: int, parents: Mapping[int, int]) -> list[int]:
    """`root_pid` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, ppid in parents.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


def tree_rss(procfs: ProcFS, pids: Iterable[int], parents: Mapping[int, int] | None = None) -> dict[int, int]:
    """For each root pid, the summed RSS of its whole process tree (bytes)."""
    table = procfs.parents() if parents is None else parents
    return {pid: sum(procfs.rss_bytes(p) for p in descendants(pid, table)) for pid in pids}

"""Process facts read from Linux's /proc (no psutil): parents, RSS, whole-tree RSS, environment
markers and which processes listen on a TCP port."""

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

    def pids(self) -> list[int]:
        with os.scandir(self.root) as entries:
            return [int(entry.name) for entry in entries if entry.name.isdigit()]

    def environ(self, pid: int) -> dict[str, str]:
        """The environment `pid` was started with; {} when unreadable (another user's, or gone)."""
        try:
            raw = (self.root / str(pid) / "environ").read_bytes()
        except OSError:
            return {}
        pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
        return {key: value for key, _, value in pairs}

    def cmdline(self, pid: int) -> str:
        try:
            raw = (self.root / str(pid) / "cmdline").read_bytes()
        except OSError:
            return "?"
        return " ".join(part.decode(errors="replace") for part in raw.split(b"\0") if part) or "?"

    def with_env(self, key: str, value: str) -> list[int]:
        """Processes whose environment holds `key=value` (the ones this user may read)."""
        return [pid for pid in self.pids() if self.environ(pid).get(key) == value]

    def listening_inodes(self, port: int) -> set[int]:
        """Socket inodes of TCP sockets (v4 and v6) listening on `port`."""
        inodes: set[int] = set()
        for table in ("net/tcp", "net/tcp6"):
            try:
                lines = (self.root / table).read_text().splitlines()[1:]
            except OSError:
                continue
            for line in lines:
                fields = line.split()
                # local_address is HEXIP:HEXPORT; state 0A is LISTEN; field 9 is the inode.
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(int(fields[9]))
        return inodes

    def listeners(self, port: int) -> list[int]:
        """Processes holding a socket that listens on TCP `port` (among those this user may read)."""
        wanted = self._listening_links(port)
        return [pid for pid in self.pids() if self._holds(pid, wanted)] if wanted else []

    def listens(self, pid: int, port: int) -> bool:
        """Whether `pid` itself holds a socket listening on TCP `port` (bound is not enough)."""
        wanted = self._listening_links(port)
        return bool(wanted) and self._holds(pid, wanted)

    def holds_file(self, pid: int, path: Path) -> bool:
        """Whether `pid` has the file at `path` open (a standby waiting on its lock does)."""
        return self._holds(pid, {str(path)})

    def _listening_links(self, port: int) -> set[str]:
        return {f"socket:[{inode}]" for inode in self.listening_inodes(port)}

    def _holds(self, pid: int, links: set[str]) -> bool:
        try:
            with os.scandir(self.root / str(pid) / "fd") as fds:
                return any(_readlink(fd.path) in links for fd in fds)
        except OSError:
            return False

    def start_ticks(self, pid: int) -> int | None:
        """Start time of `pid` in clock ticks since boot (field 22), to tell reused pids apart."""
        try:
            return int(_stat_fields((self.root / str(pid) / "stat").read_text())[19])
        except (OSError, ValueError, IndexError):
            return None


def _readlink(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


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

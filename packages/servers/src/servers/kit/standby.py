"""A warm standby: a second gateway process, started and imported, that serves the moment the
serving one is gone, however it went (docs/restarts.md, "Warm standby").

Both processes are given the same `listen.standby_lock` file. The one serving holds an
exclusive lock on it (flock) for its whole life; the kernel drops the lock when the process
ends, kill -9 included. The other has read its config and built its app, then waits for the
lock, and serves (binds with SO_REUSEPORT, starts its feed) once it has it: what it saves
against a cold start is the interpreter, the imports and the config, most of a restart.

A planned handover (SIGHUP) keeps clients from noticing: the serving process lets go of the
lock but goes on serving until the standby has taken it and listens (it writes its pid to
`LOCK.serving` once it does), and only then closes its clients with 1012. If no standby
takes over within the wait, it takes the lock back and goes on serving.

POSIX only (flock); where there is none the config refuses the setting, at its key.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

HANDOVER_WAIT_S = 10.0  # how long a leaving process waits for its standby to listen
POLL_S = 0.02


class StandbyUnavailable(OSError):
    """This platform has no flock: no standby."""


NO_FLOCK = "needs flock (POSIX); this platform has none"


def _flock() -> tuple[Callable[[int, int], None], int, int, int]:
    try:
        import fcntl
    except ImportError:  # Windows
        raise StandbyUnavailable(f"listen.standby_lock {NO_FLOCK}") from None

    return fcntl.flock, fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN


def standby_problem() -> str | None:
    """Why `listen.standby_lock` cannot work here (no flock), for the config to report at its key;
    None where it can."""
    try:
        _flock()
    except StandbyUnavailable:
        return NO_FLOCK
    return None


class StandbyLock:
    """The lock file that says which process serves, and its `.serving` sidecar (the pid of
    the process that last started listening)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.serving_path = path.with_name(path.name + ".serving")
        self._flock, self._ex, self._nb, self._un = _flock()
        self._fd: int | None = None
        self.held = False

    def _open(self) -> int:
        if self._fd is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._fd

    def try_acquire(self) -> bool:
        """Take the lock if nobody holds it."""
        try:
            self._flock(self._open(), self._ex | self._nb)
        except BlockingIOError:
            return False
        self.held = True
        return True

    def wait(self) -> None:
        """Block until the lock is ours (the serving process has ended or let go)."""
        self._flock(self._open(), self._ex)
        self.held = True

    def release(self) -> None:
        if self._fd is not None and self.held:
            self._flock(self._fd, self._un)
            self.held = False

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def announce_serving(self, pid: int | None = None) -> None:
        """Say that this process listens now (atomically: a reader sees the old pid or the new)."""
        tmp = self.serving_path.with_name(f"{self.serving_path.name}.{os.getpid()}.tmp")
        tmp.write_text(f"{os.getpid() if pid is None else pid}\n")
        tmp.replace(self.serving_path)

    def serving_pid(self) -> int | None:
        try:
            text = self.serving_path.read_text()[:32].strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None


@dataclass
class HandoverWait:
    """A leaving process's wait for its standby, as plain code: `step(now, successor_serving)`
    says "wait", "leave" (the standby listens) or "stay" (none took over in `wait_s`: take
    the lock back and serve on)."""

    started: float
    wait_s: float = HANDOVER_WAIT_S

    def step(self, now: float, successor_serving: bool) -> str:
        if successor_serving:
            return "leave"
        if now - self.started >= self.wait_s:
            return "stay"
        return "wait"


def successor_serving(lock: StandbyLock, own_pid: int) -> bool:
    """Another live process has announced that it listens."""
    pid = lock.serving_pid()
    if pid is None or pid == own_pid:
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, 0)
        return True
    return False


def stand_by(path: Path) -> StandbyLock:
    """The lock, held: at once when nobody serves; else after waiting as the standby."""
    lock = StandbyLock(path)
    if not lock.try_acquire():
        log.info("standing by: another process serves (holding %s); taking over when it ends", path)
        lock.wait()
        log.info("taking over: the lock %s is ours", path)
    return lock

"""`python -m pmdaemon.launch --state-dir DIR --name NAME [--port N] [--partner SLOT] [--grace S] -- COMMAND...`

supervisord runs every service through this step, which then *becomes* the service (exec): the
pid supervisord owns and `status` shows is the service's own process, with no wrapper left in
between. Before the exec it ends what a previous instance left behind:

- every process carrying this service's marker (`PMDAEMON_SERVICE=STATE_DIR/NAME` in its
  environment, which each process of the service inherits, whatever its process group or
  parent): TERM, then KILL after the grace period;
- then, given the service's port, it waits for the port to be free; a process that still
  listens on it and was not started by this service is named and left alone, and the launch
  fails (exit 1) with that reason in the service's log, rather than a later "address in use".
  With `--partner` (a handover slot, slots.py) the other slot's processes may hold the port:
  the successor is meant to listen beside them.

A command that cannot be executed (not on PATH, not executable) exits 127 with the reason.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from . import logline
from .procfs import ProcFS

MARKER = "PMDAEMON_SERVICE"
log = logging.getLogger("pmdaemon.launch")


def marker(state_root: Path, name: str) -> str:
    return f"{state_root}/{name}"


def _gone(procfs: ProcFS, pid: int) -> bool:
    try:
        stat = (procfs.root / str(pid) / "stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")  # a zombie holds nothing any more


def _signal(pids: Iterable[int], signum: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


def _wait_gone(procfs: ProcFS, pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while True:
        alive = [pid for pid in pids if not _gone(procfs, pid)]
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def end_leftovers(procfs: ProcFS, mark: str, grace_s: float, *, me: int) -> list[int]:
    """End every process carrying `mark` other than `me`; the pids that were found."""
    pids = [pid for pid in procfs.with_env(MARKER, mark) if pid != me and not _gone(procfs, pid)]
    if not pids:
        return []
    for pid in pids:
        log.warning("ending pid %d left by a previous instance: %s", pid, procfs.cmdline(pid))
    _signal(pids, signal.SIGTERM)
    survivors = _wait_gone(procfs, pids, grace_s)
    if survivors:
        log.warning("killing pids %s still running %gs after SIGTERM", ", ".join(map(str, survivors)), grace_s)
        _signal(survivors, signal.SIGKILL)
        _wait_gone(procfs, survivors, 5.0)
    return pids


def port_holders(procfs: ProcFS, port: int, wait_s: float, *, besides: str | None = None) -> list[int]:
    """Processes still listening on `port` after up to `wait_s` seconds (a socket closing takes a
    moment), other than those carrying the marker `besides`."""
    deadline = time.monotonic() + wait_s
    while True:
        holders = [
            pid for pid in procfs.listeners(port) if besides is None or procfs.environ(pid).get(MARKER) != besides
        ]
        if not holders or time.monotonic() >= deadline:
            return holders
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pmdaemon.launch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--port", type=int)
    parser.add_argument("--partner", help="the other handover slot, which may listen on the port meanwhile")
    parser.add_argument("--grace", type=float, default=10.0, help="seconds between TERM and KILL")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    logline.setup("pmdaemon")
    procfs = ProcFS()
    mark = marker(args.state_dir, args.name)
    ended = end_leftovers(procfs, mark, args.grace, me=os.getpid())
    if args.port is not None:
        # A socket of a process just ended may take a moment to close; a stranger's will not.
        partner = marker(args.state_dir, args.partner) if args.partner is not None else None
        holders = port_holders(procfs, args.port, 3.0 if ended else 0.3, besides=partner)
        if holders:
            who = "; ".join(f"pid {pid}: {procfs.cmdline(pid)}" for pid in holders)
            log.error("not starting %s: port %d is held by a process it did not start (%s)", args.name, args.port, who)
            sys.exit(1)
    os.environ[MARKER] = mark
    try:
        os.execvp(args.command[0], args.command)
    except OSError as exc:
        where = f" on PATH={os.environ.get('PATH', '')}" if "/" not in args.command[0] else f" (cwd {os.getcwd()})"
        log.error("cannot run %s: %r: %s%s", args.name, args.command[0], exc.strerror, where)
        sys.exit(127)


if __name__ == "__main__":
    main()

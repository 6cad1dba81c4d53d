"""Starting, reloading and stopping the state dir's own supervisord."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .applied import applied_source, apply
from .errors import NotRunning, SupervisorError
from .layout import StateDir
from .rpc import Supervisor
from .services import ServicesFile


def client(state: StateDir, *, timeout: float = 30.0) -> Supervisor:
    return Supervisor(state.server_url, timeout=timeout)


def is_running(state: StateDir) -> bool:
    try:
        client(state).state()
    except NotRunning:
        return False
    except SupervisorError:
        return False
    return True


def _supervisord_command(state: StateDir) -> list[str]:
    script = Path(sys.executable).with_name("supervisord")
    if script.exists():
        return [str(script), "-c", str(state.conf)]
    return [sys.executable, "-m", "supervisor.supervisord", "-c", str(state.conf)]


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start(source: Path, state: StateDir, *, wait_s: float = 20.0) -> tuple[str, ServicesFile]:
    """Apply `source`; launch supervisord if it is not running, else reload it. Returns what happened."""
    services = apply(source, state)
    if is_running(state):
        added, changed, removed = client(state).update()
        return f"reloaded (added: {added or '-'}, changed: {changed or '-'}, removed: {removed or '-'})", services
    output = state.root / "supervisord.start.out"
    with output.open("wb") as out:
        # supervisord daemonizes itself: this returns once it has forked.
        result = subprocess.run(
            _supervisord_command(state), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, check=False
        )
    if result.returncode != 0:
        raise SupervisorError(
            f"supervisord exited with {result.returncode}: {output.read_text(errors='replace').strip()}"
        )
    deadline = time.monotonic() + wait_s
    while not is_running(state):
        if time.monotonic() > deadline:
            raise SupervisorError(
                f"supervisord did not answer on {state.socket} within {wait_s:g}s; "
                f"its log ({state.supervisord_log}) ends:\n{_log_tail(state.supervisord_log)}"
            )
        time.sleep(0.1)
    return f"started supervisord (pid {client(state).pid()})", services


def reload(state: StateDir, source: Path | None = None) -> str:
    """Re-read the services file (the applied one's origin by default) and apply the difference."""
    apply(source or applied_source(state), state)
    added, changed, removed = client(state).update()
    return f"reloaded (added: {added or '-'}, changed: {changed or '-'}, removed: {removed or '-'})"


def _pid_from_file(state: StateDir) -> int | None:
    try:
        return int(state.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours (not the case for a daemonized supervisord) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def stop(state: StateDir, *, wait_s: float = 60.0) -> str:
    """Stop every service and supervisord itself; wait until it has exited."""
    pid = _pid_from_file(state)
    try:
        sup = client(state)
        pid = sup.pid()
        sup.shutdown()
    except NotRunning:
        if pid is None or not _alive(pid):
            return "not running"
    deadline = time.monotonic() + wait_s
    while pid is not None and _alive(pid):
        if time.monotonic() > deadline:
            raise SupervisorError(f"supervisord (pid {pid}) still running {wait_s:g}s after shutdown")
        time.sleep(0.1)
    return f"stopped supervisord (pid {pid})"


def kill(state: StateDir) -> None:
    """Last resort for tests and wedged daemons: SIGKILL supervisord and every process it runs."""
    pids: list[int] = []
    with contextlib.suppress(SupervisorError):
        pids = [p.pid for p in client(state, timeout=5).processes() if p.pid]
    supervisord = _pid_from_file(state)
    for pid in pids:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)  # stopasgroup: each service leads its own group
    if supervisord is not None:
        with contextlib.suppress(OSError):
            os.kill(supervisord, signal.SIGKILL)

"""Starting, reloading and stopping the state dir's own supervisord, in the background (it
daemonizes itself) or in the foreground (`start --foreground`: pmdaemon stays its parent, as a
systemd service, and exits non-zero if supervisord dies)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from . import launch, settle
from .applied import applied_source, apply
from .errors import NotRunning, NotStarted, SupervisorError
from .layout import StateDir
from .procfs import ProcFS
from .rpc import Supervisor
from .services import ServicesFile, ServiceSpec


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


def _supervisord_command(state: StateDir, *, foreground: bool = False) -> list[str]:
    script = Path(sys.executable).with_name("supervisord")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "supervisor.supervisord"]
    return [*command, "-c", str(state.conf), *(["-n"] if foreground else [])]


def _log_tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _marks(specs: list[ServiceSpec]) -> dict[str, settle.LogMark]:
    return {spec.name: settle.LogMark.of(spec) for spec in specs}


def check_started(state: StateDir, specs: list[ServiceSpec], marks: dict[str, settle.LogMark]) -> None:
    """Wait for `specs` to settle; NotStarted with each failure's reason when any is not RUNNING."""
    failed = settle.failures(settle.wait_settled(client(state), specs), marks)
    if failed:
        raise NotStarted(
            f"{len(failed)} of {len(specs)} services did not start (the watch retries FATAL ones after "
            "their backoff; `pmdaemon logs NAME` for more):\n" + "\n".join(failed)
        )


def start(source: Path, state: StateDir, *, wait_s: float = 20.0) -> tuple[str, ServicesFile]:
    """Apply `source`; launch supervisord if it is not running, else reload it; wait for the
    services started to reach RUNNING (NotStarted says why not). Returns what happened."""
    services = apply(source, state)
    if is_running(state):
        message, names = _update(state)
        specs = [s for s in services.services if s.name in names]
        marks = _marks(specs)
        check_started(state, specs, marks)
        return message, services
    marks = _marks(list(services.services))
    _launch(state, wait_s)
    check_started(state, list(services.services), marks)
    return f"started supervisord (pid {client(state).pid()})", services


def _update(state: StateDir) -> tuple[str, set[str]]:
    added, changed, removed = client(state).update()
    message = f"reloaded (added: {added or '-'}, changed: {changed or '-'}, removed: {removed or '-'})"
    return message, {*added, *changed}


def _wait_answering(state: StateDir, wait_s: float, alive: Callable[[], bool] = lambda: True) -> None:
    deadline = time.monotonic() + wait_s
    while not is_running(state):
        if time.monotonic() > deadline or not alive():
            raise SupervisorError(
                f"supervisord did not answer on {state.socket} within {wait_s:g}s; "
                f"its log ({state.supervisord_log}) ends:\n{_log_tail(state.supervisord_log)}"
            )
        time.sleep(0.1)


def _launch(state: StateDir, wait_s: float) -> None:
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
    _wait_answering(state, wait_s)


def foreground(source: Path, state: StateDir, *, wait_s: float = 20.0) -> int:
    """Run supervisord as our child until it exits: 0 when we were asked to stop (SIGTERM or
    SIGINT, passed on to it), 1 when it died on its own (after ending what it left running)."""
    services = apply(source, state)
    if is_running(state):
        raise SupervisorError(f"a supervisord already answers on {state.socket}: `pmdaemon stop` it first")
    marks = _marks(list(services.services))
    child = subprocess.Popen(_supervisord_command(state, foreground=True), stdin=subprocess.DEVNULL)
    stopping = False

    def stop_child(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop_child)
    try:
        _wait_answering(state, wait_s, alive=lambda: child.poll() is None)
        print(f"pmdaemon: supervisord running in the foreground (pid {child.pid})", flush=True)
        check_started(state, list(services.services), marks)
    except NotStarted as exc:
        print(f"pmdaemon: {exc}", file=sys.stderr, flush=True)
    except SupervisorError as exc:
        if not stopping and child.poll() is None:
            print(f"pmdaemon: {exc}", file=sys.stderr, flush=True)
    code = child.wait()
    if stopping:
        return 0
    how = f"signal {-code}" if code < 0 else f"status {code}"
    print(f"pmdaemon: supervisord (pid {child.pid}) exited on its own ({how})", file=sys.stderr, flush=True)
    _end_leftovers(state, services)
    return 1


def _end_leftovers(state: StateDir, services: ServicesFile) -> None:
    """Services outlive a supervisord that was killed: end them, as their next launch would."""
    procfs = ProcFS()
    for spec in services.services:
        mark = launch.marker(state.root, spec.name)
        launch.end_leftovers(procfs, mark, spec.stop_wait_s, me=os.getpid())


def reload(state: StateDir, source: Path | None = None) -> str:
    """Re-read the services file (the applied one's origin by default) and apply the difference."""
    apply(source or applied_source(state), state)
    return _update(state)[0]


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

"""Starting, reloading and stopping the state dir's own supervisord, in the background (it
daemonizes itself) or in the foreground (`start --foreground`: pmdaemon stays its parent, as a
systemd service, and exits non-zero if supervisord dies)."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from . import launch, logline, settle
from .applied import applied_source, apply
from .errors import NotRunning, NotStarted, SupervisorError
from .handover import Services
from .layout import StateDir
from .procfs import ProcFS
from .rpc import Supervisor
from .services import ServicesFile, ServiceSpec
from .slots import all_programs, programs, service_of

log = logging.getLogger("pmdaemon.control")


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
    return {program.name: settle.LogMark.of(program.logs) for spec in specs for program in programs(spec)}


def _start_handover_services(state: StateDir, specs: list[ServiceSpec]) -> None:
    """Start one slot of each handover service: supervisord autostarts neither (supervisor_conf.py)."""
    services = Services(client(state))
    for spec in specs:
        if spec.handover:
            services.start(spec)


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
        marks = _marks(list(services.services))
        message, names = _update(state, services)
        specs = [s for s in services.services if s.name in names]
        check_started(state, specs, marks)
        return message, services
    marks = _marks(list(services.services))
    _launch(state, wait_s)
    _start_handover_services(state, list(services.services))
    check_started(state, list(services.services), marks)
    return f"started supervisord (pid {client(state).pid()})", services


def _update(state: StateDir, services: ServicesFile) -> tuple[str, set[str]]:
    """Apply the rewritten supervisord.conf like `supervisorctl update` (stop, remove, add each
    changed program), except that a serving handover service takes its new configuration by a
    handover. The message names services; the set, those added or changed."""
    supervisor = client(state)
    added, changed, removed = supervisor.reload_config()
    ops = Services(supervisor)
    handing = [
        spec
        for spec in services.services
        if spec.handover and {p.name for p in programs(spec)} <= set(changed) and _serving(ops, spec)
    ]
    handed = {spec.name for spec in handing}
    plain = [group for group in changed if service_of(group) not in handed]
    for group in [*removed, *plain]:
        supervisor.remove(group)
    for spec in handing:
        _reload_by_handover(ops, spec)
    for group in [*plain, *added]:
        supervisor.add(group)
    fresh = {service_of(group) for group in [*plain, *added]}
    _start_handover_services(state, [spec for spec in services.services if spec.name in fresh])

    def names(groups: list[str]) -> str:
        return str(sorted({service_of(group) for group in groups}) or "-")

    message = f"reloaded (added: {names(added)}, changed: {names(changed)}, removed: {names(removed)})"
    return message, {service_of(group) for group in [*added, *changed]}


def _serving(ops: Services, spec: ServiceSpec) -> bool:
    chosen = ops.serving(spec, ops.infos(spec))
    return chosen is not None and chosen.state == "RUNNING"


def _reload_by_handover(ops: Services, spec: ServiceSpec) -> None:
    """A serving handover service's new configuration: the idle slot takes it and the service
    hands over to it; then the old slot takes it too (and stays stopped; a standby service's
    starts again, as the standby)."""
    serving = ops.serving(spec, ops.infos(spec))
    assert serving is not None
    successor = next(p.name for p in programs(spec) if p.name != serving.name)
    ops.supervisor.remove(successor)  # stopped first: a standby's too
    ops.supervisor.add(successor)
    ops.hand_over(spec)
    ops.supervisor.remove(serving.name)
    ops.supervisor.add(serving.name)
    if spec.standby:
        ops.supervisor.start(serving.name, wait=False)


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
    # supervisord -n echoes its log on stdout: passed on in pmdaemon's line format (for journald).
    child = subprocess.Popen(
        _supervisord_command(state, foreground=True),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert child.stdout is not None
    relay = threading.Thread(target=logline.relay_supervisord, args=(child.stdout, sys.stderr), daemon=True)
    relay.start()
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
        log.info("supervisord running in the foreground (pid %d)", child.pid)
        _start_handover_services(state, list(services.services))
        check_started(state, list(services.services), marks)
    except NotStarted as exc:
        log.error("%s", exc)
    except SupervisorError as exc:
        if not stopping and child.poll() is None:
            log.error("%s", exc)
    code = child.wait()
    relay.join(5)
    if stopping:
        return 0
    how = f"signal {-code}" if code < 0 else f"status {code}"
    log.error("supervisord (pid %d) exited on its own (%s)", child.pid, how)
    _end_leftovers(state, services)
    return 1


def _end_leftovers(state: StateDir, services: ServicesFile) -> None:
    """Services outlive a supervisord that was killed: end them, as their next launch would."""
    procfs = ProcFS()
    for program in all_programs(services):
        mark = launch.marker(state.root, program.name)
        launch.end_leftovers(procfs, mark, program.service.stop_wait_s, me=os.getpid())


def reload(state: StateDir, source: Path | None = None) -> str:
    """Re-read the services file (the applied one's origin by default) and apply the difference."""
    return _update(state, apply(source or applied_source(state), state))[0]


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

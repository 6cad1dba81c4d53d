"""Starting, stopping and restarting one service through supervisord; a `handover: true`
service's restart is a handover that its clients do not feel (docs/restarts.md):

1. start the idle slot (slots.py) while the serving one goes on serving; both listen on the
   port with SO_REUSEPORT (the gateways' `listen.reuse_port`);
2. wait for the successor's own start: supervisord calls it RUNNING (it lived `start_secs`)
   and its own pid listens on the port. Not /health: while both listen, either may answer;
   and a gateway binds its socket at once but listens only once its startup is complete;
3. SIGHUP the old slot: it stops accepting, closes its clients with 1012 (service restart, so
   they reconnect at once, to the successor), exits 0 and stays EXITED;
4. the successor is the service's process (`status` shows its pid).

A successor that does not start (FATAL, or not listening within its start budget) is stopped
and the old process goes on serving: a failed handover never takes the service down. A service
without `handover` restarts the old way, stop then start. `stop` is SIGTERM (clients: 1001).

A `standby: true` service runs both slots: the one that holds the lock serves, the other waits
(servers.kit.standby) and serves the moment the first is gone, a kill -9 included. Its restart
starts the standby again with the new program, waits until it waits on the lock, then SIGHUPs
the serving slot, which lets go of the lock and closes its clients with 1012 only once the
standby listens; then the old slot starts again, as the new standby.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable

from .errors import SupervisorError
from .procfs import ProcFS
from .rpc import ProcessInfo, Supervisor
from .services import ServiceSpec
from .settle import LogMark, budget_s
from .slots import Program, current, idle, listening_pids, programs

log = logging.getLogger("pmdaemon.handover")
UP = ("RUNNING", "STARTING", "BACKOFF")
POLL_S = 0.05


class HandoverFailed(SupervisorError):
    """The successor did not start; the old process still serves."""


class Successor(enum.Enum):
    WAITING = "waiting"
    READY = "ready"
    FAILED = "failed"


def judge_successor(info: ProcessInfo | None, listening: bool) -> Successor:
    """Whether a successor is ready to take over: RUNNING (supervisord's start_secs) and
    listening by its own pid; failed once supervisord has given up on it or it exited."""
    if info is None or info.state in ("FATAL", "EXITED", "STOPPED"):
        return Successor.FAILED
    if info.state == "RUNNING" and listening:
        return Successor.READY
    return Successor.WAITING


def _stop_timeout(spec: ServiceSpec) -> float:
    return spec.stop_wait_s + 30


class Services:
    """One supervisord's view of services as their programs."""

    def __init__(
        self,
        supervisor: Supervisor,
        procfs: ProcFS | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.supervisor = supervisor
        self.procfs = procfs or ProcFS()
        self._sleep = sleep
        self._monotonic = monotonic

    def infos(self, spec: ServiceSpec) -> list[ProcessInfo]:
        names = {program.name for program in programs(spec)}
        return [p for p in self.supervisor.processes() if p.name in names]

    def serving(self, spec: ServiceSpec, infos: list[ProcessInfo]) -> ProcessInfo | None:
        """The program that stands for the service (a standby service's: the listening slot)."""
        return current(infos, listening_pids(infos, spec, self.procfs))

    def start(self, spec: ServiceSpec) -> None:
        """Start the service unless one of its programs is already up (a handover service: the
        slot that ran last, slot a at first; a standby service: both, the lock decides)."""
        infos = self.infos(spec)
        if spec.standby:
            for info in sorted(infos, key=lambda p: p.name):
                if info.state not in UP:
                    self.supervisor.start(info.name, wait=False)
            return
        chosen = current(infos)
        if chosen is not None and chosen.state not in UP:
            self.supervisor.start(chosen.name, wait=False)

    def stop(self, spec: ServiceSpec) -> None:
        """Stop for good: every program of the service gets its stop signal (SIGTERM)."""
        for program in programs(spec):
            self.supervisor.stop(program.name, timeout=_stop_timeout(spec))

    def restart(self, spec: ServiceSpec) -> str:
        """Restart the service (a handover when it can hand over); what happened, in a line."""
        if spec.handover:
            serving = self.serving(spec, self.infos(spec))
            if serving is not None and serving.state == "RUNNING":
                return self.hand_over(spec)
        self.stop(spec)
        self.start(spec)
        return f"restarted {spec.name} (stopped, then started)"

    def hand_over(self, spec: ServiceSpec) -> str:
        infos = self.infos(spec)
        if spec.standby:
            serving = self.serving(spec, infos)
        else:
            serving = current(sorted(infos, key=lambda p: p.start)[:1] if _both_running(infos) else infos)
        if serving is None:
            raise SupervisorError(f"{spec.name} has no program in supervisord")
        successor = idle(infos, serving)
        if successor is None:
            raise SupervisorError(f"{spec.name}'s second slot is not in supervisord")
        program = next(p for p in programs(spec) if p.name == successor.name)
        if spec.standby:
            return self._hand_over_to_standby(spec, serving, successor, program)
        log.info("%s: starting %s beside pid %d (%s)", spec.name, successor.name, serving.pid, serving.name)
        mark = LogMark.of(program.logs)
        self.supervisor.start(successor.name, wait=False)
        ready = self._await_successor(spec, program, mark)
        log.info("%s: %s (pid %d) listens; SIGHUP to pid %d", spec.name, successor.name, ready.pid, serving.pid)
        self.supervisor.signal(serving.name, "HUP")
        self._await_exit(spec, serving)
        return f"handed over {spec.name} from pid {serving.pid} ({serving.name}) to pid {ready.pid} ({ready.name})"

    def _hand_over_to_standby(
        self, spec: ServiceSpec, serving: ProcessInfo, standby: ProcessInfo, program: Program
    ) -> str:
        log.info("%s: restarting the standby %s beside pid %d (%s)", spec.name, standby.name, serving.pid, serving.name)
        mark = LogMark.of(program.logs)
        if standby.state in UP:
            self.supervisor.stop(standby.name, timeout=_stop_timeout(spec))
        self.supervisor.start(standby.name, wait=False)
        waiting = self._await_standing_by(spec, program, mark)
        log.info("%s: %s (pid %d) stands by; SIGHUP to pid %d", spec.name, standby.name, waiting.pid, serving.pid)
        self.supervisor.signal(serving.name, "HUP")  # it lets go of the lock, then leaves once the standby listens
        ready = self._await_successor(spec, program, mark)
        self._await_exit(spec, serving)
        self.supervisor.start(serving.name, wait=False)  # the new standby
        return (
            f"handed over {spec.name} from pid {serving.pid} ({serving.name}) to its standby pid {ready.pid} "
            f"({ready.name}); {serving.name} stands by again"
        )

    def _await_standing_by(self, spec: ServiceSpec, program: Program, mark: LogMark) -> ProcessInfo:
        """The restarted standby, once it waits on the lock (it has the lock file open: its
        imports and config are done); stopped, and the service untouched, if it fails."""
        lock = spec.standby_lock
        assert lock is not None  # a standby service's
        deadline = self._monotonic() + budget_s(spec)
        while True:
            info = next((p for p in self.supervisor.processes() if p.name == program.name), None)
            if info is not None and info.state == "RUNNING" and self.procfs.holds_file(info.pid, lock):
                return info
            if (info is None or info.state in ("FATAL", "EXITED", "STOPPED")) or self._monotonic() > deadline:
                self.supervisor.stop(program.name, timeout=_stop_timeout(spec))
                why = "".join(f"\n  | {line}" for line in mark.first_new_lines())
                raise HandoverFailed(
                    f"{spec.name}: the standby {program.name} did not come up waiting on {lock} "
                    f"({info.state if info is not None else 'missing'}); the old process still serves{why}"
                )
            self._sleep(POLL_S)

    def _await_successor(self, spec: ServiceSpec, program: Program, mark: LogMark) -> ProcessInfo:
        assert spec.port is not None  # services.py: handover needs a port
        deadline = self._monotonic() + budget_s(spec)
        while True:
            info = next((p for p in self.supervisor.processes() if p.name == program.name), None)
            listening = info is not None and info.pid > 0 and self.procfs.listens(info.pid, spec.port)
            verdict = judge_successor(info, listening)
            if verdict is Successor.READY and info is not None:
                return info
            if verdict is Successor.FAILED or self._monotonic() > deadline:
                self.supervisor.stop(program.name, timeout=_stop_timeout(spec))
                state = info.state if info is not None else "missing"
                why = "".join(f"\n  | {line}" for line in mark.first_new_lines())
                raise HandoverFailed(
                    f"{spec.name}: the successor {program.name} did not start ({state}, "
                    f"{'listening' if listening else f'not listening on port {spec.port}'}); "
                    f"the old process still serves{why}"
                )
            self._sleep(POLL_S)

    def _await_exit(self, spec: ServiceSpec, serving: ProcessInfo) -> None:
        """Wait for the old slot to close its clients and exit; stop it if it does not."""
        deadline = self._monotonic() + spec.stop_wait_s
        while self._monotonic() < deadline:
            info = next((p for p in self.supervisor.processes() if p.name == serving.name), None)
            if info is None or info.state not in ("RUNNING", "STOPPING") or info.pid != serving.pid:
                return
            self._sleep(POLL_S)
        log.warning("%s: pid %d still running %gs after SIGHUP: stopping it", spec.name, serving.pid, spec.stop_wait_s)
        self.supervisor.stop(serving.name, timeout=_stop_timeout(spec))


def _both_running(infos: list[ProcessInfo]) -> bool:
    """Two slots serving (a handover cut short): the older one is the one to leave."""
    return sum(p.state == "RUNNING" for p in infos) > 1

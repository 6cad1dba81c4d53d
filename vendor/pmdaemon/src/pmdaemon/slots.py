"""Which supervisord programs a service is, and which of them is the service now: plain code.

A service is one supervisord program of its own name, except a `handover: true` service, which
is two: the slots `NAME@a` and `NAME@b`, one serving at a time. A restart starts the idle slot
beside the serving one, and once the successor listens, SIGHUP tells the old one to close its
clients with 1012 and exit 0 (handover.py). Both slots are ordinary supervisord programs, so
supervisord owns every process, restarts a crashed one and stops both with the service.

Each slot logs to a file of its own (`NAME.log` becomes `NAME@a.log` and `NAME@b.log`): two
supervisord log writers rotating one file would overwrite each other's backups.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from .procfs import ProcFS
from .rpc import ProcessInfo
from .services import LogSpec, ServicesFile, ServiceSpec

SLOTS = ("a", "b")
SEPARATOR = "@"  # not allowed in a service name (services.py), allowed in supervisord's
# Which slot's state says most about the service, best first (an equal rank: the later start).
_RANK = {"RUNNING": 0, "STARTING": 1, "BACKOFF": 1, "STOPPING": 2, "FATAL": 3, "EXITED": 4, "STOPPED": 5}


@dataclass(frozen=True, slots=True)
class Program:
    """One supervisord program: a whole service, or one slot of a handover service."""

    name: str
    service: ServiceSpec
    stdout: LogSpec
    stderr: LogSpec | None
    partner: str | None = None  # the other slot, which may listen on the port meanwhile

    @property
    def logs(self) -> tuple[LogSpec, ...]:
        return (self.stdout,) if self.stderr is None else (self.stdout, self.stderr)


def _slot_file(path: Path, slot: str) -> Path:
    return path.with_name(f"{path.stem}{SEPARATOR}{slot}{path.suffix}")


def _slot_log(log: LogSpec, slot: str) -> LogSpec:
    return replace(log, file=_slot_file(log.file, slot))


def programs(spec: ServiceSpec) -> tuple[Program, ...]:
    """The service's program, or its two slots."""
    if not spec.handover:
        return (Program(spec.name, spec, spec.stdout, spec.stderr),)
    a, b = (f"{spec.name}{SEPARATOR}{slot}" for slot in SLOTS)
    return tuple(
        Program(
            name,
            spec,
            _slot_log(spec.stdout, slot),
            None if spec.stderr is None else _slot_log(spec.stderr, slot),
            partner,
        )
        for name, partner, slot in ((a, b, "a"), (b, a, "b"))
    )


def all_programs(services: ServicesFile) -> list[Program]:
    return [program for spec in services.services for program in programs(spec)]


def service_of(program: str) -> str:
    """The service a program belongs to (a slot's name without `@a`/`@b`)."""
    return program.partition(SEPARATOR)[0]


def current(infos: Iterable[ProcessInfo], listening: Collection[int] = ()) -> ProcessInfo | None:
    """Which of one service's programs stands for it: the serving one (of two serving during a
    handover, the successor), else the one starting, stopping, FATAL, then the latest to run.
    `listening`: pids seen listening on the service's port; of a standby service's two running
    slots, the one listening serves (the standby waits, not listening)."""
    return min(infos, key=lambda p: (_RANK.get(p.state, 6), p.pid not in listening, -p.start, p.name), default=None)


def listening_pids(infos: Iterable[ProcessInfo], spec: ServiceSpec, procfs: ProcFS | None) -> frozenset[int]:
    """The running slots of a standby service that listen on its port (nothing to ask otherwise)."""
    if procfs is None or not spec.standby or spec.port is None:
        return frozenset()
    port = spec.port
    return frozenset(p.pid for p in infos if p.state == "RUNNING" and p.pid > 0 and procfs.listens(p.pid, port))


def idle(infos: Sequence[ProcessInfo], serving: ProcessInfo) -> ProcessInfo | None:
    """The slot a handover starts: the service's other program."""
    return next((p for p in infos if p.name != serving.name), None)


def by_service(infos: Iterable[ProcessInfo], services: ServicesFile) -> dict[str, list[ProcessInfo]]:
    """The programs of each service of `services`, grouped under the service's name."""
    wanted = {program.name: program.service.name for program in all_programs(services)}
    out: dict[str, list[ProcessInfo]] = {}
    for info in infos:
        if info.name in wanted:
            out.setdefault(wanted[info.name], []).append(info)
    return out


def current_by_service(
    infos: Iterable[ProcessInfo], services: ServicesFile, procfs: ProcFS | None = None
) -> dict[str, ProcessInfo]:
    """For each service, the program that stands for it (`current`; with `procfs`, a standby
    service's listening slot)."""
    out: dict[str, ProcessInfo] = {}
    for name, group in by_service(infos, services).items():
        spec = services.get(name)
        chosen = current(group, listening_pids(group, spec, procfs) if spec is not None else ())
        if chosen is not None:
            out[name] = chosen
    return out

"""After `start`: wait until the services started have settled, and say why any did not.

supervisord counts a service as started once it has run `start_secs`; one that exits sooner is
retried `start_retries` times (the n-th retry after n seconds) and then left FATAL. `start`
waits that long at most, then reports each service that is not RUNNING with the reason:
supervisord's spawn error and the first lines its log gained since the start began.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .rpc import ProcessInfo, Supervisor
from .services import LogSpec, ServiceSpec
from .slots import programs

SETTLED = ("RUNNING", "FATAL", "EXITED", "STOPPED")
REASON_LINES = 8


@dataclass(frozen=True, slots=True)
class LogMark:
    """Where a service's log files ended before the start, so that only new lines are shown."""

    sizes: tuple[tuple[Path, int], ...]

    @classmethod
    def of(cls, logs: Iterable[LogSpec]) -> LogMark:
        return cls(tuple((log.file, _size(log.file)) for log in logs))

    def first_new_lines(self, limit: int = REASON_LINES) -> list[str]:
        lines: list[str] = []
        for path, size in self.sizes:
            try:
                with path.open("rb") as handle:
                    handle.seek(size if _size(path) >= size else 0)
                    text = handle.read(64 * 1024).decode("utf-8", errors="replace")
            except OSError:
                continue
            lines.extend(line for line in text.splitlines() if line.strip())
        return lines[:limit]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def budget_s(spec: ServiceSpec) -> float:
    """The longest supervisord may take to call a service started or FATAL, with slack."""
    retries = spec.start_retries
    return (retries + 1) * (spec.start_secs + 1) + retries * (retries + 1) / 2 + 5


def wait_settled(supervisor: Supervisor, specs: Iterable[ServiceSpec], *, poll_s: float = 0.2) -> list[ProcessInfo]:
    """Poll until every program of `specs` has settled or its budget is spent; their last infos
    (a handover service's idle slot is STOPPED or EXITED: settled)."""
    wanted = {program.name: spec for spec in specs for program in programs(spec)}
    deadline = time.monotonic() + max((budget_s(s) for s in wanted.values()), default=0)
    while True:
        infos = [p for p in supervisor.processes() if p.name in wanted]
        if all(p.state in SETTLED for p in infos) or time.monotonic() > deadline:
            return infos
        time.sleep(poll_s)


def failures(infos: Iterable[ProcessInfo], marks: dict[str, LogMark]) -> list[str]:
    """One paragraph per service that did not reach RUNNING: state, spawn error, log lines."""
    out = []
    for info in infos:
        if info.state in ("RUNNING", "EXITED", "STOPPED"):
            continue
        lines = [f"{info.name}: {info.state}" + (f" ({info.spawnerr})" if info.spawnerr else "")]
        mark = marks.get(info.name)
        lines.extend(f"  | {line}" for line in (mark.first_new_lines() if mark else []))
        out.append("\n".join(lines))
    return out

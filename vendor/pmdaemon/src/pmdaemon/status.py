"""`pmdaemon status`: supervisord's view of each service joined with the watch's records and /proc.

Its exit code says whether everything is well (scripts and monitoring rely on these):
0 every service RUNNING and healthy (its health check passing, or none configured), and the
watch running; 3 a service (or the watch) is not RUNNING; 4 every service RUNNING but a health
check is failing, degraded or not yet passed. (1: supervisord cannot be reached.)
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from .layout import StateDir
from .procfs import ProcFS, tree_rss
from .rpc import Supervisor
from .services import WATCH_NAME, ServicesFile
from .slots import all_programs, current_by_service
from .state import read_json

MB = 1024 * 1024
ALL_WELL, NOT_RUNNING, UNHEALTHY = 0, 3, 4


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    program: str  # the supervisord program serving it: NAME, or a handover slot NAME@a / NAME@b
    state: str
    pid: int | None
    uptime_s: int | None
    restarts: int
    rss_bytes: int | None
    health: str
    healthy: bool
    health_failures: int
    actions: dict[str, int]
    last_action: dict[str, Any] | None
    description: str


def _health(checked: bool, health: dict[str, Any]) -> str:
    """ "-" (no check), "pending", "ok", or "degraded: why" / "failing: why"."""
    verdict = health.get("status")
    if not checked:
        return "-"
    if verdict is None:
        return "pending"
    return str(verdict) if verdict == "ok" else f"{verdict}: {health.get('detail', '')}"


def exit_code(report: dict[str, Any]) -> int:
    services = report["services"]
    if report["watch"]["state"] != "RUNNING" or any(s["state"] != "RUNNING" for s in services):
        return NOT_RUNNING
    return ALL_WELL if all(s["healthy"] for s in services) else UNHEALTHY


def collect(
    state: StateDir, supervisor: Supervisor, procfs: ProcFS | None = None, services_file: ServicesFile | None = None
) -> dict[str, Any]:
    """Every service's state as one JSON-able report (`exit_code` included)."""
    procfs = procfs or ProcFS()
    infos = supervisor.processes()
    watch_state = read_json(state.watch_state)
    records: dict[str, Any] = watch_state.get("services", {})
    rss = tree_rss(procfs, [p.pid for p in infos if p.pid])
    now = time.time()
    services = []
    watch: dict[str, Any] = {"state": "MISSING", "pid": None}
    serving = current_by_service(infos, services_file, procfs) if services_file else {}
    known = {program.name for program in all_programs(services_file)} if services_file else set()
    for info in infos:
        if info.name == WATCH_NAME:
            watch = {"state": info.state, "pid": info.pid or None, "updated_us": watch_state.get("updated_us")}
        elif info.name not in known:  # not in the applied file (yet): shown as supervisord has it
            serving.setdefault(info.name, info)
    for name, info in serving.items():
        record = records.get(name, {})
        health = record.get("health") or {}
        spec = services_file.get(name) if services_file else None
        checked = spec is not None and spec.health is not None
        shown = _health(checked, health)
        services.append(
            ServiceStatus(
                name=name,
                program=info.name,
                state=info.state,
                pid=info.pid or None,
                uptime_s=int(now - info.start) if info.pid and info.start else None,
                restarts=int(record.get("restarts", 0)),
                rss_bytes=rss.get(info.pid) if info.pid else None,
                health=shown,
                healthy=info.state == "RUNNING" and shown in ("-", "ok"),
                health_failures=int(health.get("consecutive_failures", 0)),
                actions=dict(record.get("actions", {})),
                last_action=record.get("last_action"),
                description=info.description,
            )
        )
    report = {"supervisord_pid": supervisor.pid(), "watch": watch, "services": [asdict(s) for s in services]}
    report["exit_code"] = exit_code(report)
    return report


def _uptime(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}d{hours:02d}h" if days else f"{hours}:{minutes:02d}:{secs:02d}"


def _ago(at_us: object, now: float) -> str:
    if not isinstance(at_us, int):
        return ""
    seconds = max(0, int(now - at_us / 1e6))
    return f", {_uptime(seconds) if seconds >= 60 else f'{seconds}s'} ago"


def render_table(report: dict[str, Any], *, now: float | None = None) -> str:
    now = time.time() if now is None else now
    header = ("NAME", "STATE", "PID", "UPTIME", "RESTARTS", "RSS", "HEALTH", "LAST ACTION")
    rows = [header]
    for s in report["services"]:
        last = s["last_action"]
        rows.append(
            (
                s["name"],
                s["state"],
                str(s["pid"] or "-"),
                _uptime(s["uptime_s"]),
                str(s["restarts"]),
                "-" if s["rss_bytes"] is None else f"{s['rss_bytes'] / MB:.1f}M",
                s["health"],
                f"{last['action']} ({last['reason']}): {last['detail']}{_ago(last.get('at_us'), now)}" if last else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    ]
    watch = report["watch"]
    lines.append(f"(supervisord pid {report['supervisord_pid']}; watch {watch['state']} pid {watch['pid'] or '-'})")
    return "\n".join(line.rstrip() for line in lines)

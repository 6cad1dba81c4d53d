"""`pmdaemon status`: supervisord's view of each service joined with the watch's records and /proc."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from .layout import StateDir
from .procfs import ProcFS, tree_rss
from .rpc import Supervisor
from .services import WATCH_NAME
from .state import read_json

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    state: str
    pid: int | None
    uptime_s: int | None
    restarts: int
    rss_bytes: int | None
    health: str
    health_failures: int
    actions: dict[str, int]
    last_action: dict[str, Any] | None
    description: str


def collect(state: StateDir, supervisor: Supervisor, procfs: ProcFS | None = None) -> dict[str, Any]:
    procfs = procfs or ProcFS()
    infos = supervisor.processes()
    watch_state = read_json(state.watch_state)
    records: dict[str, Any] = watch_state.get("services", {})
    rss = tree_rss(procfs, [p.pid for p in infos if p.pid])
    now = time.time()
    services = []
    watch: dict[str, Any] = {"state": "MISSING", "pid": None}
    for info in infos:
        if info.name == WATCH_NAME:
            watch = {"state": info.state, "pid": info.pid or None, "updated_us": watch_state.get("updated_us")}
            continue
        record = records.get(info.name, {})
        health = record.get("health") or {}
        ok = health.get("ok")
        services.append(
            ServiceStatus(
                name=info.name,
                state=info.state,
                pid=info.pid or None,
                uptime_s=int(now - info.start) if info.pid and info.start else None,
                restarts=int(record.get("restarts", 0)),
                rss_bytes=rss.get(info.pid) if info.pid else None,
                health="-" if ok is None else ("ok" if ok else f"failing: {health.get('detail', '')}"),
                health_failures=int(health.get("consecutive_failures", 0)),
                actions=dict(record.get("actions", {})),
                last_action=record.get("last_action"),
                description=info.description,
            )
        )
    return {"supervisord_pid": supervisor.pid(), "watch": watch, "services": [asdict(s) for s in services]}


def _uptime(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}d{hours:02d}h" if days else f"{hours}:{minutes:02d}:{secs:02d}"


def render_table(report: dict[str, Any]) -> str:
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
                f"{last['action']} ({last['reason']}): {last['detail']}" if last else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    ]
    watch = report["watch"]
    lines.append(f"(supervisord pid {report['supervisord_pid']}; watch {watch['state']} pid {watch['pid'] or '-'})")
    return "\n".join(line.rstrip() for line in lines)

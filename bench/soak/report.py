"""The soak's report, made from what a run left in its directory (run.json, alerts.jsonl,
samples.jsonl, receipts.json and the services' logs), so `run.py --report-only DIR` makes it again.

Targets (issue 11): 0 rows missing or duplicated; every outage alerted once at its start and
once at its end by whoever is expected to see it, and no alert unpaired or repeated; every
service back and healthy after every kill; RSS growth under 10 MB per service over the last 2/3
of the run (judged on runs of 30 minutes or more); fewer than 60 log lines in the minute after an
outage begins, per service."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from faults import EXPECTED_ALERTS, KILL, OUTAGES
from observe import read_lines

MB = 1024 * 1024
RSS_GROWTH_LIMIT_MB = 10.0
RSS_JUDGED_FROM_MINUTES = 30.0
SETTLED_S = 120  # an instance's RSS is compared from this uptime on (start-up growth is not a leak)
LOG_LINES_PER_MIN_LIMIT = 60
# NAME.log, a handover slot's NAME@a.log, their backups NAME.log.1; not supervisord's own
# AUTO logs (NAME-stdout---...).
_LOG_FILE = re.compile(r"^(?P<service>[^@.]+?)(?:@\w+)?\.log(?:\.\d+)?$")


def _windows(faults: list[dict[str, Any]], t_end: float) -> list[tuple[float, float]]:
    """Each fault's window: from its start to the next fault's (the last: to the run's end)."""
    starts = [f["started"] for f in faults]
    return list(zip(starts, [*starts[1:], t_end], strict=True))


def longest_gap(times: list[float], start: float, end: float) -> float | None:
    """The longest silence between quotes overlapping [start, end], including the silence that a
    fault begins in (from the last quote before `start`)."""
    inside = [t for t in times if start <= t <= end]
    before = [t for t in times if t < start]
    points = ([before[-1]] if before else []) + inside
    if not points:
        return None
    gaps = [b - a for a, b in itertools.pairwise(points)]
    gaps.append(end - points[-1])  # still silent at the window's end
    return round(max(gaps), 2)


def alerts_in(alerts: list[dict[str, Any]], start: float, end: float) -> dict[str, dict[str, Any]]:
    """Per `service / subject`: how many starts and ends arrived in the window, with durations."""
    out: dict[str, dict[str, Any]] = {}
    for alert in alerts:
        if not start <= alert["received"] < end:
            continue
        body = alert["body"]
        key = f"{body.get('service')} / {body.get('subject')}"
        row = out.setdefault(key, {"start": 0, "end": 0, "event": 0, "durations_s": []})
        phase = body.get("phase", "event")
        row[phase if phase in ("start", "end") else "event"] += 1
        if phase == "end" and body.get("duration_s") is not None:
            row["durations_s"].append(round(float(body["duration_s"]), 1))
    return out


def _alerts_ok(kind: str, seen: dict[str, dict[str, Any]]) -> tuple[bool, str]:
    problems = []
    for service, subject in EXPECTED_ALERTS.get(kind, []):
        row = seen.get(f"{service} / {subject}")
        if row is None or row["start"] != 1 or row["end"] != 1:
            problems.append(f"expected one start and one end from {service} / {subject}, got {row}")
    for key, row in seen.items():
        if row["start"] > 1 or row["end"] > 1 or row["start"] != row["end"]:
            problems.append(f"{key}: {row['start']} start(s), {row['end']} end(s)")
    return not problems, "; ".join(problems)


def _parse_time(line: str) -> float | None:
    head = line.split(" ", 1)[0]
    if len(head) < 19 or head[4] != "-" or "T" not in head:
        return None
    try:
        return dt.datetime.fromisoformat(head).timestamp()
    except ValueError:
        return None


def log_times(logs: Path) -> dict[str, list[float]]:
    """Every log line's time per service (a line with no time of its own: the previous line's)."""
    out: dict[str, list[float]] = defaultdict(list)
    for path in sorted(logs.glob("*.log*")):
        match = _LOG_FILE.match(path.name)
        if match is None or "---" in path.name:
            continue
        times = out[match["service"]]
        last: float | None = None
        for line in path.read_text(errors="replace").splitlines():
            at = _parse_time(line)
            last = at if at is not None else last
            if last is not None:
                times.append(last)
    return dict(out)


def log_rates(
    times: dict[str, list[float]], t0: float, t_end: float, faults: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    minutes = max((t_end - t0) / 60, 1 / 60)
    outages = [f for f in faults if f["kind"] in OUTAGES]
    out = {}
    for service, ts in sorted(times.items()):
        in_run = [t for t in ts if t0 <= t <= t_end]
        per_minute = Counter(int((t - t0) // 60) for t in in_run)
        during = {f["label"]: sum(1 for t in ts if f["started"] <= t < f["started"] + 60) for f in outages}
        out[service] = {
            "lines": len(in_run),
            "per_min": round(len(in_run) / minutes, 1),
            "max_in_a_minute": max(per_minute.values(), default=0),
            "first_minute_of_outage": during,
            "max_first_minute_of_outage": max(during.values(), default=0),
        }
    return out


def rss(samples: list[dict[str, Any]], t0: float, t_end: float) -> dict[str, dict[str, Any]]:
    """Per service: RSS at the first and last sample, and over the last 2/3 of the run the
    largest growth of one instance (a kill starts a new one) from SETTLED_S of uptime on."""
    tail_from = t0 + (t_end - t0) / 3
    by_service: dict[str, list[tuple[float, dict[str, Any]]]] = defaultdict(list)
    for sample in samples:
        for name, s in sample["services"].items():
            if s.get("rss_bytes"):
                by_service[name].append((sample["at"], s))
    out = {}
    for name, rows in sorted(by_service.items()):
        instances: dict[int, list[tuple[float, int]]] = defaultdict(list)
        for at, s in rows:
            if at >= tail_from and (s.get("uptime_s") or 0) >= SETTLED_S:
                instances[int(s["pid"])].append((at, int(s["rss_bytes"])))
        growth = [(pts[-1][1] - pts[0][1], pts[-1][0] - pts[0][0]) for pts in instances.values() if len(pts) >= 2]
        worst = max(growth, default=None)
        out[name] = {
            "start_mb": round(rows[0][1]["rss_bytes"] / MB, 1),
            "end_mb": round(rows[-1][1]["rss_bytes"] / MB, 1),
            "max_mb": round(max(s["rss_bytes"] for _, s in rows) / MB, 1),
            "tail_growth_mb": None if worst is None else round(worst[0] / MB, 1),
            "tail_growth_over_s": None if worst is None else round(worst[1]),
        }
    return out


def make(run_dir: Path) -> dict[str, Any]:
    run = json.loads((run_dir / "run.json").read_text())
    t0, t_end = run["t0"], run["t_end"]
    faults = run["faults"]
    alerts = read_lines(run_dir / "alerts.jsonl")
    samples = read_lines(run_dir / "samples.jsonl")
    receipts: list[list[float]] = json.loads((run_dir / "receipts.json").read_text())
    rows = []
    for fault, (start, end) in zip(faults, _windows(faults, t_end), strict=True):
        seen = alerts_in(alerts, start, end)
        ok, why = _alerts_ok(fault["kind"], seen)
        back = fault["kind"] != KILL or fault["back_after_s"] is not None
        rows.append(
            {
                "fault": fault["label"],
                "at_s": round(start - t0, 1),
                "outage_s": round(fault["ended"] - fault["started"], 1),
                "back_after_s": fault["back_after_s"],
                "all_back_after_s": fault["all_back_after_s"],
                "not_back": fault["detail"].get("not_back", []),
                "client_longest_gap_s": [longest_gap(times, start, end) for times in receipts],
                "alerts": seen,
                "alerts_ok": ok,
                "alerts_problem": why,
                "back_ok": back and not fault["detail"].get("not_back"),
            }
        )
    before = alerts_in(alerts, 0, faults[0]["started"] if faults else t_end)
    data = run["data"]
    rss_rows = rss(samples, t0, t_end)
    logs = log_rates(log_times(run_dir / "state" / "logs"), t0, t_end, faults)
    judged_rss = (t_end - t0) / 60 >= RSS_JUDGED_FROM_MINUTES
    growth_over = {
        n: r["tail_growth_mb"]
        for n, r in rss_rows.items()
        if r["tail_growth_mb"] is not None and r["tail_growth_mb"] >= RSS_GROWTH_LIMIT_MB
    }
    noisy = {
        n: r["max_first_minute_of_outage"]
        for n, r in logs.items()
        if r["max_first_minute_of_outage"] >= LOG_LINES_PER_MIN_LIMIT
    }
    targets = {
        "rows_missing_or_duplicated": data["missing_rows"] + data["duplicated_rows"] == 0,
        "lines_missing_or_duplicated": data["missing_lines"] + data["duplicated_lines"] == 0,
        "every_fault_alerted_once_start_end": all(r["alerts_ok"] for r in rows) and _alerts_ok("", before)[0],
        "every_service_back_after_every_fault": all(r["back_ok"] for r in rows),
        "rss_growth_under_10mb": (not growth_over) if judged_rss else None,
        "log_lines_under_60_per_min_in_outage": not noisy,
        "clients_received": all(len(times) > 0 for times in receipts),
    }
    return {
        "command": run["command"],
        "machine": run["machine"],
        "minutes": round((t_end - t0) / 60, 1),
        "faults_run": len(faults),
        "data": data,
        "faults": rows,
        "alerts_before_first_fault": before,
        "alerts_total": len(alerts),
        "clients": [{"quotes": len(times)} for times in receipts],
        "rss": rss_rows,
        "rss_over_limit": growth_over,
        "logs": logs,
        "noisy_in_outage": noisy,
        "targets": targets,
        "ok": all(v is not False for v in targets.values()),
    }


def _dash(value: object) -> str:
    return "-" if value is None else str(value)


def render(report: dict[str, Any]) -> str:
    d = report["data"]
    lines = [
        f"soak: {report['minutes']} min, {report['faults_run']} faults ({report['command']})",
        f"machine: {report['machine']}",
        "",
        f"stream entries {d['stream_entries']} (distinct quote ids {d['stream_quote_ids']}), "
        f"PostgreSQL rows {d['rows']} (missing {d['missing_rows']}, duplicated {d['duplicated_rows']}), "
        f"server_log lines {d['lines']} (missing {d['missing_lines']}, duplicated {d['duplicated_lines']})",
        "",
        "| fault | at s | outage s | back s | all back s | client longest gap s | alerts (start/end) | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["faults"]:
        alerts = ", ".join(f"{k} {v['start']}/{v['end']}" for k, v in r["alerts"].items()) or "-"
        ok = "yes" if r["alerts_ok"] and r["back_ok"] else f"NO {r['alerts_problem']} {r['not_back'] or ''}".strip()
        gaps = "/".join("-" if g is None else f"{g:g}" for g in r["client_longest_gap_s"])
        back, all_back = (_dash(r["back_after_s"]), _dash(r["all_back_after_s"]))
        cells = [r["fault"], f"{r['at_s']:g}", f"{r['outage_s']:g}", back, all_back, gaps, alerts, ok]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "| service | RSS start MB | end MB | max MB | growth, last 2/3 | log lines/min | in an outage's 1st min |",
    ]
    lines.append("|---|---|---|---|---|---|---|")
    for name in sorted(set(report["rss"]) | set(report["logs"])):
        r = report["rss"].get(name, {})
        lg = report["logs"].get(name, {})
        cells = [r.get(k) for k in ("start_mb", "end_mb", "max_mb", "tail_growth_mb")]
        cells += [lg.get("per_min"), lg.get("max_first_minute_of_outage")]
        lines.append(f"| {name} | " + " | ".join(_dash(c) for c in cells) + " |")
    before = ", ".join(f"{k} {v['start']}/{v['end']}" for k, v in report["alerts_before_first_fault"].items())
    lines += ["", f"alerts before the first fault: {before or 'none'}"]
    lines += ["", "targets: " + ", ".join(f"{k}={'n/a' if v is None else v}" for k, v in report["targets"].items())]
    lines.append("OK" if report["ok"] else "TARGET MISSED")
    return "\n".join(lines)

"""Soak the whole deploy stack under pmdaemon, with faults, and report what it survived.

    python bench/soak/run.py --minutes N [--fault-every-s S] [--out DIR] [--outage-s 20]
    python bench/soak/run.py --report-only DIR        (the report of a finished run, again)

Brings up deploy/services.json5 (every service: server_dummy as restream's upstream, restream,
server_yahoo, server_sql, server_log, server_speak, redis2ws and the three monitors) under a
real pmdaemon with a private state dir, on free ports, against a private Redis (append-only,
fsynced) and a private PostgreSQL that the soak may stop; every service's alert route and
pmdaemon's watch.alerts point at a webhook sink in this script. `--clients` lib_common.client
clients read the pinned symbols from restream and record when each quote arrives.

After a warm-up, a fault every --fault-every-s seconds (faults.py: kill -9 of each service in
turn, `pmdaemon restart restream`, Redis down, PostgreSQL down, upstream stall, malformed
upstream frames; outages last --outage-s). After --minutes, restream is stopped, the durable
consumers drain, and the stream's entries are compared with PostgreSQL's rows and server_log's
lines by quote id. The report (report.py) is printed and written to DIR/report.json; the exit
status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import platform
import shlex
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

import report
from faults import Injector, Outcome, schedule
from observe import Clients, JsonLines, Sampler, WebhookSink
from stack import Pmdaemon, PrivatePostgres, PrivateRedis, SoakError, derive_services, wait_until

PREFIX = "rsdev:"  # the deploy's stream prefix (restream's default)


def machine() -> str:
    cpus = os.cpu_count()
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return f"{platform.system()} {platform.release()}, {cpus} cores ({model}), Python {platform.python_version()}"


def stream_quote_ids(url: str) -> list[tuple[str, str]]:
    """Every entry of the quotes stream: (entry id, quote id)."""
    out: list[tuple[str, str]] = []
    with contextlib.closing(redis.Redis.from_url(url)) as client:
        last = "-"
        while True:
            batch = client.xrange(f"{PREFIX}quotes", min=last, max="+", count=10_000)
            if last != "-":
                batch = batch[1:]
            if not batch:
                return out
            for entry_id, fields in batch:
                out.append((entry_id.decode(), fields.get(b"quote_id", b"").decode()))
            last = batch[-1][0].decode()


def table_quote_ids(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        if conn.execute("SELECT to_regclass('quotes')").fetchone() == (None,):
            return []
        return [(str(a), str(b)) for a, b in conn.execute("SELECT stream_id, quote_id FROM quotes")]


def log_quote_ids(directory: Path) -> list[tuple[str, str]]:
    out = []
    for path in sorted(directory.glob("quotes-*.ndjson*")):
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt") as f:
            for line in f:
                if line.strip():
                    record = json.loads(line)
                    out.append((str(record.get("stream_id")), str(record.get("quote_id"))))
    return out


def compare(stream: list[tuple[str, str]], sink: list[tuple[str, str]]) -> tuple[int, int]:
    """(missing, duplicated) by quote id: quotes in the stream not in the sink, and copies."""
    wanted = {q for _, q in stream}
    counts = Counter(q for _, q in sink)
    return len(wanted - set(counts)), sum(n - 1 for n in counts.values() if n > 1)


def drain(redis_url: str, dsn: str, log_dir: Path, timeout_s: float) -> dict[str, Any]:
    """Once the sinks hold every quote of the stream (or timeout_s): the comparison."""
    deadline = time.monotonic() + timeout_s
    while True:
        stream = stream_quote_ids(redis_url)
        rows, lines = table_quote_ids(dsn), log_quote_ids(log_dir)
        missing_rows, duplicated_rows = compare(stream, rows)
        missing_lines, duplicated_lines = compare(stream, lines)
        if (missing_rows == 0 and missing_lines == 0) or time.monotonic() > deadline:
            break
        time.sleep(2)
    return {
        "stream_entries": len(stream),
        "stream_quote_ids": len({q for _, q in stream}),
        "rows": len(rows),
        "missing_rows": missing_rows,
        "duplicated_rows": duplicated_rows,
        "lines": len(lines),
        "missing_lines": missing_lines,
        "duplicated_lines": duplicated_lines,
        "sinks_not_in_stream": len({q for _, q in rows + lines} - {q for _, q in stream}),
    }


def soak(args: argparse.Namespace, out: Path) -> dict[str, Any]:
    bin_dir = Path(sys.executable).parent
    sink_log, client_log = JsonLines(out / "alerts.jsonl"), JsonLines(out / "clients.jsonl")
    sink = WebhookSink(sink_log)
    sink.start()
    redis_server, postgres = PrivateRedis(), PrivatePostgres()
    pmdaemon = Pmdaemon(bin_dir, out / "state")
    sampler: Sampler | None = None
    clients: Clients | None = None
    try:
        redis_server.start()
        postgres.start()
        services_file, ports = derive_services(
            out,
            bin_dir=bin_dir,
            redis_server=redis_server,
            postgres=postgres,
            webhook_url=sink.url,
            alert_min_interval_s=args.alert_min_interval_s,
            inactivity_s=args.inactivity_s,
        )
        print(f"soak: starting the stack ({services_file}, state {pmdaemon.state_dir})", flush=True)
        pmdaemon.checked("start", str(services_file), timeout_s=180)
        wait_until(lambda: pmdaemon.status()["exit_code"] == 0, 120, "every service RUNNING and healthy")
        names = list(ports)  # the deploy's order
        symbols = _symbols(services_file)
        clients = Clients(f"ws://127.0.0.1:{ports['restream']}/ws", symbols, args.clients, client_log)
        clients.start()
        sampler = Sampler(pmdaemon, args.sample_s, JsonLines(out / "samples.jsonl"))
        sampler.start()
        injector = Injector(
            pmdaemon,
            redis_server,
            postgres,
            f"http://127.0.0.1:{ports['server_dummy']}",
            args.outage_s,
            args.back_timeout_s,
        )
        t0 = time.time()
        end = t0 + args.minutes * 60
        plan = schedule(names)
        outcomes: list[Outcome] = []
        print(f"soak: running {args.minutes:g} min, a fault every {args.fault_every_s:g}s", flush=True)
        while True:
            due = t0 + args.warmup_s + len(outcomes) * args.fault_every_s
            if max(due, time.time()) >= end - args.outage_s:
                break  # no time left for it (a slow recovery pushes the next fault back)
            time.sleep(max(0.0, due - time.time()))
            fault = plan[len(outcomes) % len(plan)]
            outcome = injector.run(fault)
            outcomes.append(outcome)
            print(
                f"soak: {time.time() - t0:7.1f}s {fault.label}: {outcome.to_json()['detail']}, "
                f"back {outcome.back_after_s}s, all back {outcome.all_back_after_s}s",
                flush=True,
            )
        time.sleep(max(0.0, end - time.time()))
        t_end = time.time()
        sampler.close()
        sampler.sample()
        clients.close()
        pmdaemon.checked("stop", "restream")
        data = drain(redis_server.url, postgres.dsn, pmdaemon.state_dir / "data" / "quotes", args.drain_timeout_s)
        (out / "receipts.json").write_text(json.dumps(clients.received))
        return {
            "command": shlex.join(["python", "bench/soak/run.py", *sys.argv[1:]]),
            "machine": machine(),
            "t0": t0,
            "t_end": t_end,
            "ports": ports,
            "faults": [o.to_json() for o in outcomes],
            "data": data,
        }
    finally:
        if clients is not None and clients._thread.is_alive():
            clients.close()
        with contextlib.suppress(Exception):
            pmdaemon.run("stop", timeout_s=120)
        redis_server.close()
        postgres.close()
        sink.close()
        sink_log.close()
        client_log.close()


def _symbols(services_file: Path) -> list[str]:
    data = json.loads(services_file.read_text().split("\n", 1)[1])
    return [s for s in str(data["vars"]["symbols"]).split(",") if s]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the faults go on (default 10)")
    parser.add_argument("--fault-every-s", type=float, default=120.0, help="seconds between faults (default 120)")
    parser.add_argument("--out", type=Path, help="the run's directory (default: a new one under /tmp)")
    parser.add_argument("--outage-s", type=float, default=20.0, help="how long an outage lasts (default 20)")
    parser.add_argument("--warmup-s", type=float, default=30.0, help="before the first fault (default 30)")
    parser.add_argument("--clients", type=int, default=3, help="WebSocket clients of restream (default 3)")
    parser.add_argument("--sample-s", type=float, default=10.0, help="status sampled this often (default 10)")
    parser.add_argument("--back-timeout-s", type=float, default=90.0, help="a service not back by then fails")
    parser.add_argument("--drain-timeout-s", type=float, default=90.0, help="for the sinks to catch up")
    parser.add_argument(
        "--alert-min-interval-s", type=float, default=60.0, help="the services' alert folding (alerts.min_interval_s)"
    )
    parser.add_argument(
        "--inactivity-s", type=float, default=5.0, help="restream's upstream inactivity timeout (shorter than outages)"
    )
    parser.add_argument("--report-only", type=Path, metavar="DIR", help="only make the report of a finished run")
    args = parser.parse_args(argv)
    if args.report_only:
        out = args.report_only
    else:
        out = args.out or Path(f"/tmp/soak-{time.strftime('%Y%m%d-%H%M%S')}")
        out.mkdir(parents=True, exist_ok=True)
        if args.fault_every_s <= args.outage_s:
            parser.error("--fault-every-s must be longer than --outage-s")
        try:
            run = soak(args, out)
        except SoakError as exc:
            print(f"soak: {exc}", file=sys.stderr)
            return 2
        (out / "run.json").write_text(json.dumps(run, indent=1))
    made = report.make(out)
    (out / "report.json").write_text(json.dumps(made, indent=1))
    print(report.render(made))
    print(f"soak: report in {out / 'report.json'}")
    return 0 if made["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

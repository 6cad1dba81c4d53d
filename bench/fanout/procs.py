"""The two child processes of a run: the server under test and the load-client process."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import procfs

HERE = Path(__file__).resolve().parent
SERVER_CPU = 0
CLIENT_CPU = 1


BENCH_TOKEN = "fanout-bench"
# The bench runs restream as a deployment would, with a tenant and token (the auth check is part
# of the connect path), with room for every client: all of them come from one address, and the
# crowd scenario holds more than the default 4096 in all.
RESTREAM_TENANT = {"name": "bench", "token": BENCH_TOKEN, "max_connections": 100_000}
RESTREAM_LIMITS = {"max_connections_per_ip": 100_000, "max_connections_total": 100_000}


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server kind; everything else about a run is shared."""

    name: str
    command: tuple[str, ...]  # after the interpreter
    has_metrics: bool  # Prometheus text on /metrics, and a JSON5 --config
    ws_path: str = "/ws"
    python: str = sys.executable  # the interpreter, and so the build (a worktree's venv) that runs it

    def write_config(self, path: Path, memory: dict[str, float] | None) -> Path | None:
        """The server's config file for a run (JSON is JSON5), or None if it takes none."""
        if not self.has_metrics:
            return None
        body: dict[str, object] = {
            "tenants": [RESTREAM_TENANT],
            "limits": RESTREAM_LIMITS,
            **({"memory": memory} if memory else {}),
        }
        path.write_text(json.dumps(body, indent=2) + "\n")
        return path

    def argv(self, port: int, symbols: list[str], rate: float, config: Path | None) -> list[str]:
        args = [self.python, *self.command, "--host", "127.0.0.1", "--port", str(port)]
        args += ["--symbols", ",".join(symbols), "--rate", str(rate)]
        return args + (["--config", str(config)] if config is not None else [])


RESTREAM = ServerSpec("restream", ("-m", "servers.restream"), has_metrics=True, ws_path=f"/ws?token={BENCH_TOKEN}")
BASELINE = ServerSpec("baseline", (str(HERE / "baseline_server.py"),), has_metrics=False)
SPECS = {s.name: s for s in (RESTREAM, BASELINE)}


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's RLIMIT_NOFILE (soft, and hard where allowed) to at least `wanted`,
    before the server and load processes are started: they inherit it. Returns the soft limit
    now in force (the hard limit's, when it could not be raised that far)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return soft
    if hard != resource.RLIM_INFINITY and hard < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
            return wanted
        except (OSError, ValueError):  # not privileged: as far as the hard limit goes
            wanted = hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return wanted


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pin(pid: int, cpu: int) -> None:
    """Pin a process (0: this one) to one CPU; a no-op on a machine with fewer CPUs."""
    if cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(pid, {cpu})


def http_get(port: int, path: str, timeout: float = 5.0) -> tuple[int, str]:
    """GET http://127.0.0.1:port/path; (status, body), status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return int(r.status), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return int(e.code), ""
    except (OSError, ValueError):
        return 0, ""


def parse_prometheus(text: str) -> dict[str, float]:
    """Sum of every sample per metric name (labels folded together); a histogram's buckets
    also each under `NAME_bucket le=BOUND`."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, _, rest = line.rpartition("}") if "}" in line else line.partition(" ")
        name, _, labels = name_labels.partition("{")
        name = name.strip()
        try:
            value = float(rest.split()[0])
        except (IndexError, ValueError):
            continue
        totals[name] = totals.get(name, 0.0) + value
        if name.endswith("_bucket") and labels.startswith('le="'):
            totals[f"{name} le={labels[4:].rstrip(chr(34))}"] = value
    return totals


def histogram_quantile(before: dict[str, float], after: dict[str, float], name: str, q: float) -> float | None:
    """The `q` quantile of histogram `name`'s observations between two scrapes: the upper
    bound of the bucket it falls in (as Prometheus' histogram_quantile, without interpolation)."""
    prefix = f"{name}_bucket le="
    bounds = sorted(
        (float(key[len(prefix) :]), after[key] - before.get(key, 0.0)) for key in after if key.startswith(prefix)
    )
    total = bounds[-1][1] if bounds else 0.0
    if total <= 0:
        return None
    for bound, cumulative in bounds:
        if cumulative >= q * total:
            return bound
    return None


async def _stop(proc: asyncio.subprocess.Process, grace: float = 5.0) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            proc.kill()
            await asyncio.wait_for(proc.wait(), grace)


class Server:
    def __init__(self, spec: ServerSpec, proc: asyncio.subprocess.Process, port: int, log: Path) -> None:
        self.spec, self.proc, self.port, self.log = spec, proc, port, log

    def sample(self) -> procfs.ProcSample:
        return procfs.sample(self.proc.pid)

    async def metrics(self) -> dict[str, float] | None:
        if not self.spec.has_metrics:
            return None
        status, body = await asyncio.to_thread(http_get, self.port, "/metrics")
        return parse_prometheus(body) if status == 200 else None

    async def wait_healthy(self, within_s: float) -> None:
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                break
            status, _ = await asyncio.to_thread(http_get, self.port, "/health", 1.0)
            if status == 200:
                return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.spec.name} not healthy on :{self.port}; log {self.log}:\n{_tail(self.log)}")


def _log_file(path: Path) -> IO[bytes]:
    return open(path, "wb")  # the child keeps its own descriptor; ours closes after the spawn


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@asynccontextmanager
async def running_server(
    spec: ServerSpec, symbols: list[str], rate: float, config: Path | None, log: Path
) -> AsyncIterator[Server]:
    port = free_port()
    with _log_file(log) as out:
        proc = await asyncio.create_subprocess_exec(
            *spec.argv(port, symbols, rate, config), stdout=out, stderr=asyncio.subprocess.STDOUT
        )
    pin(proc.pid, SERVER_CPU)
    server = Server(spec, proc, port, log)
    try:
        await server.wait_healthy(30.0)
        yield server
    finally:
        await _stop(proc)


class Load:
    """The client process, spoken to over stdin/stdout JSON lines (see client.py)."""

    def __init__(self, proc: asyncio.subprocess.Process, ready: dict[str, Any]) -> None:
        self.proc, self.ready = proc, ready

    def sample(self) -> procfs.ProcSample:
        return procfs.sample(self.proc.pid)

    async def command(self, cmd: str, reply_timeout: float = 30.0, **extra: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"cmd": cmd, **extra}) + "\n").encode())
        await self.proc.stdin.drain()
        reply = await _read_json(self.proc, reply_timeout)
        return reply["result"]


async def _read_json(proc: asyncio.subprocess.Process, limit_s: float) -> dict[str, Any]:
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), limit_s)
    except TimeoutError:
        raise TimeoutError(f"no answer from the client process within {limit_s:.0f} s") from None
    if not line:
        raise RuntimeError(f"client process exited (rc={proc.returncode})")
    result: dict[str, Any] = json.loads(line)
    return result


@asynccontextmanager
async def running_load(
    port: int,
    path: str,
    clients: int,
    symbols: list[str],
    *,
    stall_client: bool,
    batch_ms: float,
    log: Path,
    connect_timeout: float = 150.0,
    kernel_stamps: bool = False,
    idle: bool = False,
) -> AsyncIterator[Load]:
    argv = [sys.executable, str(HERE / "client.py"), "--port", str(port), "--path", path, "--clients", str(clients)]
    argv += ["--symbols", ",".join(symbols), "--connect-timeout", str(connect_timeout)]
    argv += ["--batch-ms", str(batch_ms)] + (["--stall-client"] if stall_client else [])
    argv += ["--kernel-stamps"] if kernel_stamps else []
    argv += ["--idle"] if idle else []
    with _log_file(log) as err:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err
        )
    pin(proc.pid, CLIENT_CPU)
    try:
        ready = await _read_json(proc, connect_timeout + 30.0)
        yield Load(proc, ready)
    finally:
        if proc.stdin is not None and not proc.stdin.is_closing():
            proc.stdin.write(b'{"cmd": "quit"}\n')
            proc.stdin.close()
        await _stop(proc)

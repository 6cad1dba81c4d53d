"""Process CPU and memory from /proc (Linux)."""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    cpu_s: float  # utime + stime, all threads
    rss_kb: int  # VmRSS
    hwm_kb: int  # VmHWM, peak RSS so far


def sample(pid: int) -> ProcSample:
    with open(f"/proc/{pid}/stat", "rb") as f:
        # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        fields = f.read().rsplit(b")", 1)[1].split()
    cpu_s = (int(fields[11]) + int(fields[12])) / _TICK
    status = _status(pid)
    return ProcSample(cpu_s, status.get("VmRSS", 0), status.get("VmHWM", 0))


def _status(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


@dataclass(frozen=True)
class MachineSample:
    busy_s: float  # CPU-seconds busy, all CPUs, since boot (steal excluded)
    steal_s: float  # CPU-seconds the hypervisor gave to someone else


def machine() -> MachineSample:
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return MachineSample((user + nice + system + irq + softirq) / _TICK, steal / _TICK)

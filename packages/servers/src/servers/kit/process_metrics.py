"""The process_* figures Prometheus users expect of every exporter, for every server's /metrics.

The names, units and meanings are those of the Prometheus client libraries' process collector
(prometheus/client_python's process_collector.py), so dashboards and alerts written for any
exporter work unchanged:

    process_cpu_seconds_total           user + system CPU time, seconds (counter)
    process_resident_memory_bytes       resident set size, bytes
    process_virtual_memory_bytes        virtual memory size, bytes
    process_open_fds                    open file descriptors
    process_max_fds                     the soft limit on open file descriptors
    process_start_time_seconds          start of the process, seconds since the Unix epoch

On Linux CPU, memory and start time are read from /proc (one read of /proc/self/stat; the boot
time from /proc/stat once), and the descriptors are counted as the connection gate counts them
(servers.kit.connections: a listing of /proc/self/fd, the soft RLIMIT_NOFILE). Elsewhere
(Windows and macOS, for development) only what the standard library measures portably is given:
CPU time (time.process_time), the descriptor limit where the `resource` module exists, and the
start time as this module's import; a figure that cannot be measured is left out, never invented.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

from lib_common.metrics import Exposition
from servers.kit.connections import fd_limit, fds_open

_IMPORTED_AT = time.time()  # the start time where the OS does not tell it


@dataclass(frozen=True, slots=True)
class ProcessFigures:
    cpu_seconds_total: float
    start_time_seconds: float
    resident_memory_bytes: int | None = None
    virtual_memory_bytes: int | None = None
    open_fds: int | None = None
    max_fds: int | None = None


def parse_stat(text: str, *, clock_ticks: int, page_size: int, boot_time_s: float) -> ProcessFigures:
    """/proc/PID/stat (proc(5)): utime, stime, starttime in clock ticks, vsize in bytes, rss in pages."""
    # The command name (field 2) is in parentheses and may hold spaces or ')': split after the last.
    fields = text[text.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    start_ticks, vsize, rss_pages = int(fields[19]), int(fields[20]), int(fields[21])
    return ProcessFigures(
        cpu_seconds_total=(utime + stime) / clock_ticks,
        start_time_seconds=boot_time_s + start_ticks / clock_ticks,
        resident_memory_bytes=rss_pages * page_size,
        virtual_memory_bytes=vsize,
    )


def parse_boot_time(text: str) -> float:
    """The `btime` line of /proc/stat: the boot time, seconds since the epoch."""
    for line in text.splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise ValueError("no btime line in /proc/stat")


class ProcReader:
    """This process's figures from the proc file system mounted at `proc`; the boot time is read once."""

    def __init__(self, proc: Path, *, clock_ticks: int, page_size: int) -> None:
        self.proc = proc
        self.clock_ticks = clock_ticks
        self.page_size = page_size
        self._boot_time_s: float | None = None

    def read(self) -> ProcessFigures:
        if self._boot_time_s is None:
            self._boot_time_s = parse_boot_time((self.proc / "stat").read_text())
        stat = (self.proc / "self" / "stat").read_text()
        return parse_stat(stat, clock_ticks=self.clock_ticks, page_size=self.page_size, boot_time_s=self._boot_time_s)


def portable_figures() -> ProcessFigures:
    """What the standard library measures on any platform."""
    return ProcessFigures(cpu_seconds_total=time.process_time(), start_time_seconds=_IMPORTED_AT)


if sys.platform == "linux":
    _PROC: ProcReader | None = ProcReader(
        Path("/proc"), clock_ticks=os.sysconf("SC_CLK_TCK"), page_size=os.sysconf("SC_PAGE_SIZE")
    )
else:
    _PROC = None


def read_figures() -> ProcessFigures:
    """This process's figures: from /proc on Linux, else the portable ones; the descriptors as
    the connection gate counts them (servers.kit.connections)."""
    figures = None
    if _PROC is not None:
        try:
            figures = _PROC.read()
        except (OSError, ValueError, IndexError):  # /proc not mounted (some containers): what we can
            figures = None
    return replace(figures or portable_figures(), open_fds=fds_open(), max_fds=fd_limit())


def expose(out: Exposition, figures: ProcessFigures) -> None:
    out.counter(
        "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", figures.cpu_seconds_total
    )
    gauges = [
        ("process_resident_memory_bytes", "Resident memory size in bytes.", figures.resident_memory_bytes),
        ("process_virtual_memory_bytes", "Virtual memory size in bytes.", figures.virtual_memory_bytes),
        ("process_open_fds", "Number of open file descriptors.", figures.open_fds),
        ("process_max_fds", "Maximum number of open file descriptors.", figures.max_fds),
        (
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            figures.start_time_seconds,
        ),
    ]
    for name, help_text, value in gauges:
        if value is not None:
            out.gauge(name, help_text, value)


def process_metrics() -> str:
    """The process_* families as Prometheus text, to follow a server's own."""
    out = Exposition()
    expose(out, read_figures())
    return out.render()

"""The process_* figures of every server's /metrics: parsed from a /proc tree made here, read from
this process's real /proc, the portable fallback, and a real restream's /metrics."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lib_common.metrics import Exposition
from servers.kit import process_metrics
from servers.kit.process_metrics import (
    ProcessFigures,
    ProcReader,
    expose,
    parse_boot_time,
    parse_stat,
    portable_figures,
    read_figures,
)
from tests.servers.conftest import StartRestream

# proc(5) fields 1-24 and more: pid (comm) state ppid ... utime=250 stime=50 ... starttime=12000
# vsize=104857600 rss=2560; the command name holds a space and a ')'.
STAT = "4242 (py thon) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 3 0 12000 104857600 2560 " + "0 " * 20


def test_parse_stat_reads_cpu_start_and_memory() -> None:
    figures = parse_stat(STAT, clock_ticks=100, page_size=4096, boot_time_s=1_700_000_000.0)
    assert figures.cpu_seconds_total == 3.0  # (250 + 50) ticks at 100 a second
    assert figures.start_time_seconds == 1_700_000_120.0  # 12000 ticks after boot
    assert figures.resident_memory_bytes == 2560 * 4096 and figures.virtual_memory_bytes == 104857600


def test_boot_time() -> None:
    assert parse_boot_time("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n") == 1_700_000_000.0
    with pytest.raises(ValueError, match="no btime"):
        parse_boot_time("cpu 1\n")


def test_a_proc_tree_gives_every_figure(tmp_path: Path) -> None:
    (tmp_path / "self").mkdir(parents=True)
    (tmp_path / "stat").write_text("btime 1700000000\n")
    (tmp_path / "self" / "stat").write_text(STAT)
    figures = ProcReader(tmp_path, clock_ticks=100, page_size=4096).read()
    assert figures == ProcessFigures(
        cpu_seconds_total=3.0,
        start_time_seconds=1_700_000_120.0,
        resident_memory_bytes=2560 * 4096,
        virtual_memory_bytes=104857600,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="/proc is Linux's")
def test_this_process_from_the_real_proc(tmp_path: Path) -> None:
    import resource  # POSIX: this test runs on Linux only

    before = read_figures()
    files = [(tmp_path / f"f{i}").open("w") for i in range(10)]
    try:
        during = read_figures()
    finally:
        for f in files:
            f.close()
    assert during.open_fds is not None and before.open_fds is not None
    assert during.open_fds - before.open_fds == 10
    times = os.times()
    assert abs(during.cpu_seconds_total - (times.user + times.system)) < 0.5
    statm_pages = int(Path("/proc/self/statm").read_text().split()[1])
    rss = statm_pages * os.sysconf("SC_PAGE_SIZE")
    assert during.resident_memory_bytes is not None and abs(during.resident_memory_bytes - rss) < 16 * 2**20
    assert during.max_fds == resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@pytest.mark.skipif(sys.platform != "linux", reason="/proc is Linux's")
def test_the_start_time_is_the_process_start() -> None:
    code = "import time, json; t = time.time(); from servers.kit.process_metrics import read_figures; "
    code += "print(json.dumps([t, read_figures().start_time_seconds]))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    began, start = json.loads(done.stdout)
    assert began - 2.0 < start <= began + 0.02  # boot time + start ticks: 10 ms resolution


def test_the_portable_fallback_gives_only_what_it_measures(monkeypatch: pytest.MonkeyPatch) -> None:
    figures = portable_figures()
    assert abs(figures.cpu_seconds_total - time.process_time()) < 0.5
    assert figures.resident_memory_bytes is None and figures.open_fds is None and figures.max_fds is None
    out = Exposition()
    expose(out, portable_figures())
    names = re.findall(r"^# TYPE (\S+)", out.render(), re.M)
    assert names == ["process_cpu_seconds_total", "process_start_time_seconds"]  # nothing invented


def test_a_proc_that_cannot_be_read_falls_back(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(process_metrics, "_PROC", ProcReader(tmp_path / "absent", clock_ticks=100, page_size=4096))
    assert read_figures().resident_memory_bytes is None


def test_a_real_server_exposes_them_once(start_restream: StartRestream) -> None:
    server = start_restream(None, "--feed", "synthetic")
    text = server.get("/metrics").text
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ):
        assert text.count(f"# TYPE {name} ") == 1, name
        assert float(re.search(rf"^{name} (\S+)$", text, re.M).group(1)) > 0  # type: ignore[union-attr]

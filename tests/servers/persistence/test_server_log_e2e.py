"""server_log as a real process: day files by the NY date of ts_upstream, the closed day gzip'd,
every quote once through a kill and a restart."""

from __future__ import annotations

import gzip
import json
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from servers.server_log.rotation import file_name, ny_date, ny_midnight_after
from tests.servers.conftest import Launcher, ServerProcess
from tests.servers.persistence.services import SHARED_REDIS, pending, publish, quote, wait_for


def start(launcher: Launcher, prefix: str, directory: Path, *flags: str) -> ServerProcess:
    return launcher(None, "--redis-url", SHARED_REDIS, "--dir", str(directory), "--prefix", prefix, *flags)


def lines_of(path: Path) -> list[dict[str, object]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        return [json.loads(line) for line in f]


def all_ids(directory: Path) -> list[str]:
    ids: list[str] = []
    for path in sorted(directory.glob("quotes-*.ndjson*")):
        ids += [str(line["stream_id"]) for line in lines_of(path)]
    return ids


def now_us() -> int:
    return time.time_ns() // 1000


def test_day_files_across_ny_midnight(start_server_log: Launcher, names: tuple[str, str], tmp_path: Path) -> None:
    prefix, _ = names
    today = ny_date(now_us())
    midnight = ny_midnight_after(today - timedelta(days=1))  # the NY midnight that began today
    if (wait := 60 - (now_us() - midnight) / 1e6) > 0:
        time.sleep(wait)  # within a minute of NY midnight: let the new day settle first (≤ 60 s)
    before = [quote(i, midnight - 5_000_000) for i in range(1000)]  # the last seconds of yesterday
    after = [quote(i, midnight) for i in range(1000, 2500)]  # today, from its first µs
    interleaved = [q for pair in zip(before, after, strict=False) for q in pair] + after[len(before) :]
    ids = publish(SHARED_REDIS, prefix, interleaved)
    out = tmp_path / "logs"
    # Yesterday stays open for a few more seconds: the server writes both days, then sees
    # yesterday close while it runs, as it would at NY midnight (plus the grace).
    grace_s = (now_us() - midnight) / 1e6 + 8
    server = start(start_server_log, prefix, out, "--close-grace-s", f"{grace_s:.3f}", "--batch-size", "300")
    wait_for(lambda: len(all_ids(out)) == len(ids), 6, "both days written before yesterday closes")
    assert (out / file_name(today - timedelta(days=1))).exists()
    closed = out / file_name(today - timedelta(days=1), gzipped=True)
    open_file = out / file_name(today)
    wait_for(lambda: closed.exists() and len(lines_of(open_file)) == len(after), 30, "yesterday closed, today written")
    assert not (out / file_name(today - timedelta(days=1))).exists()
    assert sorted(p.name for p in out.iterdir()) == sorted([closed.name, open_file.name])
    yesterday = lines_of(closed)  # gzip.open reads it through: the archive is whole
    assert [line["ts_upstream"] for line in yesterday] == [q["ts_upstream"] for q in before]
    assert all(ny_date(int(str(line["ts_upstream"]))) == today for line in lines_of(open_file))
    assert sorted(all_ids(out)) == sorted(ids)
    assert yesterday[0]["symbol"] == before[0]["symbol"] and "stream_id" in yesterday[0]
    sink = server.status()["sink"]
    assert isinstance(sink, dict) and sink["closed"] == 1 and sink["late"] == 0


def test_kill_and_restart_mid_stream(start_server_log: Launcher, names: tuple[str, str], tmp_path: Path) -> None:
    prefix, _ = names
    ids = publish(SHARED_REDIS, prefix, [quote(i, now_us()) for i in range(20_000)])
    out = tmp_path / "logs"
    first = start(start_server_log, prefix, out, "--batch-size", "200")
    wait_for(lambda: len(all_ids(out)) > 0, 30, "first lines")
    first.stop(signal.SIGKILL)
    assert len(all_ids(out)) < len(ids), "killed too late to be mid-stream"
    second = start(start_server_log, prefix, out, "--batch-size", "200")
    more = publish(SHARED_REDIS, prefix, [quote(i, now_us()) for i in range(20_000, 21_000)])
    wait_for(lambda: len(all_ids(out)) >= len(ids) + len(more), 60, "every line")
    wait_for(lambda: pending(SHARED_REDIS, prefix, "server_log") == 0, 10, "nothing pending")
    written = all_ids(out)
    doubled = [sid for sid, n in Counter(written).items() if n > 1]
    assert not doubled, f"lines written twice: {doubled[:5]}"
    assert sorted(written) == sorted(ids + more)
    status = second.status()
    assert status["malformed"] == 0


def test_help_and_settings_errors(tmp_path: Path) -> None:
    import subprocess
    import sys

    run = [sys.executable, "-m", "servers.server_log"]
    shown = subprocess.run([*run, "--help"], capture_output=True, text=True, check=False)
    for flag in ("--config", "--host", "--port", "--log-level", "--redis-url", "--dir", "--close-grace-s"):
        assert flag in shown.stdout
    missing = subprocess.run([*run, "--redis-url", SHARED_REDIS], capture_output=True, text=True, check=False)
    assert missing.returncode == 2 and "--dir" in missing.stderr
    bad = tmp_path / "bad.json5"
    bad.write_text("{dir: '/tmp/x', batch_size: 0}")
    failed = subprocess.run([*run, "--config", str(bad)], capture_output=True, text=True, check=False)
    assert failed.returncode == 2 and "batch_size: must be at least 1" in failed.stderr

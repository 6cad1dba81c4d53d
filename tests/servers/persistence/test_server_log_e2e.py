"""server_log: day files by the NY date of ts_upstream and the closed day gzip'd (the consumer
and sink in-process, their clock driven by the test), and every quote once through a kill and a
restart of the real process."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from lib_common.clock import ManualClock
from servers.durable.config import ConsumerConfig
from servers.durable.consumer import DurableConsumer
from servers.server_log.files import LogSink
from servers.server_log.rotation import RotationPolicy, file_name, ny_date, ny_midnight_after
from tests.servers.conftest import Launcher, ServerProcess, run_module
from tests.servers.persistence.services import SHARED_REDIS, TS0, pending, publish, quote, wait_for


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


def test_day_files_across_ny_midnight(names: tuple[str, str], tmp_path: Path) -> None:
    """The consumer and the log sink in this process, on the real Redis and file system, with
    the sink's clock in the test's hands: both days written, then NY midnight (plus the grace)
    passes when the test says so, and yesterday is gzip'd while the consumer runs."""
    prefix, _ = names
    today = ny_date(TS0)
    midnight = ny_midnight_after(today)  # the NY midnight that ends `today`
    before = [quote(i, midnight - 5_000_000) for i in range(1000)]  # the last seconds of the day
    after = [quote(i, midnight) for i in range(1000, 2500)]  # the next day, from its first µs
    interleaved = [q for pair in zip(before, after, strict=False) for q in pair] + after[len(before) :]
    ids = publish(SHARED_REDIS, prefix, interleaved)
    out = tmp_path / "logs"
    clock = ManualClock(midnight + 1_000_000)  # a second into the new day, inside the grace
    sink = LogSink(out, clock, RotationPolicy(grace_s=30))
    config = ConsumerConfig("server_log", SHARED_REDIS, prefix=prefix, consumer="c", batch_size=300, max_wait_ms=20)
    consumer = DurableConsumer(config, sink, name="server_log")
    closed = out / file_name(today, gzipped=True)
    open_file = out / file_name(today + timedelta(days=1))

    async def scenario() -> None:
        task = asyncio.create_task(consumer.run())
        try:
            async with asyncio.timeout(60):
                while sink.lines < len(ids):
                    await asyncio.sleep(0.02)
                assert (out / file_name(today)).exists() and not closed.exists()
                clock.advance(30)  # past midnight by the grace: the next idle read closes the day
                while not closed.exists():
                    await asyncio.sleep(0.02)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    asyncio.run(scenario())
    assert sorted(p.name for p in out.iterdir()) == sorted([closed.name, open_file.name])
    yesterday = lines_of(closed)  # gzip.open reads it through: the archive is whole
    assert [line["ts_upstream"] for line in yesterday] == [q["ts_upstream"] for q in before]
    assert [line["ts_upstream"] for line in lines_of(open_file)] == [q["ts_upstream"] for q in after]
    assert sorted(all_ids(out)) == sorted(ids)
    assert yesterday[0]["symbol"] == before[0]["symbol"] and "stream_id" in yesterday[0]
    assert (sink.closed, sink.late, consumer.acked, consumer.malformed) == (1, 0, len(ids), 0)
    assert pending(SHARED_REDIS, prefix, "server_log") == 0


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


def test_settings_errors(tmp_path: Path) -> None:
    missing = run_module("servers.server_log", "--redis-url", SHARED_REDIS)
    assert missing.returncode == 2 and "--dir" in missing.stderr
    bad = tmp_path / "bad.json5"
    bad.write_text("{dir: '/tmp/x', batch_size: 0}")
    failed = run_module("servers.server_log", "--config", str(bad))
    assert failed.returncode == 2 and "batch_size: must be at least 1" in failed.stderr

"""Alerts that reach a person, end to end: a durable consumer whose private Redis (or private
PostgreSQL) goes down and comes back sends one alert at the start and one at the end, with the
duration, to a real server_speak (which speaks it: WAV files here) and to a webhook (a local
HTTP server). The shared Redis at 6379 is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib_common.audio import sound_cards
from tests.servers.conftest import Launcher
from tests.servers.persistence.services import SHARED_REDIS, PrivatePostgres, PrivateRedis, publish, quote, wait_for
from tests.webhook import Receiver


@pytest.mark.skipif(bool(sound_cards()), reason="this host has a sound card: speech would be played")
def test_a_redis_outage_is_spoken_and_posted_once_at_start_and_end(
    start_server_log: Launcher,
    names: tuple[str, str],
    private_redis_factory: type[PrivateRedis],
    tmp_path: Path,
) -> None:
    prefix, _ = names
    redis = private_redis_factory(persistent=False)
    redis.start()
    with Launcher(tmp_path, "servers.server_speak") as start_speak, Receiver() as webhook:
        rules = [{"kind": "monitor", "events": ["outage_start", "outage_end"]}]
        speak = start_speak({"rules": rules, "output_dir": str(tmp_path / "speech"), "queue": {"min_gap_s": 0}})
        alerts = ["--speak-url", speak.url("/speak"), "--webhook-url", f"{webhook.url}/hook"]
        consumer = ["--redis-url", redis.url, "--prefix", prefix, "--max-wait-ms", "100", "--dir", str(tmp_path / "q")]
        server = start_server_log(None, *consumer, *alerts)
        redis.stop()
        start = webhook.wait_for("start")
        redis.start()
        end = webhook.wait_for("end")
        wait_for(lambda: server.get("/health").json()["status"] == "ok", 30, "reconnected")
        wait_for(lambda: len(speak.status()["recent_files"]) >= 2, 60, "two alerts spoken")  # type: ignore[arg-type]
        status = speak.status()
        server.stop()
    assert webhook.phases() == [("start", "server_log consumer"), ("end", "server_log consumer")]
    assert start["service"] == "server_log" and "down" in start["text"]
    assert end["duration_s"] > 0 and "back after" in end["text"]
    assert status["spoken"] == {"written": 2}
    assert all(Path(f).stat().st_size > 1000 for f in status["recent_files"])  # type: ignore[union-attr]
    # The retries in between were summarised: one WARNING for the outage, one for its recovery.
    warnings = [line for line in server.output().splitlines() if " WARNING " in line]
    assert len(warnings) <= 3, "\n".join(warnings)


def test_a_postgres_outage_alerts_the_webhook(
    start_server_sql: Launcher, names: tuple[str, str], private_postgres: PrivatePostgres
) -> None:
    prefix, table = names
    with Receiver() as webhook:
        args = ["--redis-url", SHARED_REDIS, "--dsn", private_postgres.dsn, "--prefix", prefix, "--table", table]
        server = start_server_sql(None, *args, "--webhook-url", f"{webhook.url}/hook")
        wait_for(lambda: server.get("/health").json()["status"] == "ok", 30, "consuming")
        private_postgres.stop()
        publish(SHARED_REDIS, prefix, [quote(i) for i in range(100)])  # rows to write, and nowhere to write them
        start = webhook.wait_for("start", timeout=60)
        private_postgres.start()
        end = webhook.wait_for("end", timeout=90)
        server.stop()
    assert webhook.phases() == [("start", "server_sql consumer"), ("end", "server_sql consumer")]
    assert "down" in start["text"] and end["duration_s"] > 0

"""monitor_redis against the real Redis, and against a private redis-server that is killed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import redis

from tests.misc.conftest import REDIS_URL, PrivateRedis, StartMonitor, free_port, run_monitor
from tests.webhook import Receiver

MODULE = "rsdev_misc.monitor_redis"


def test_once_against_real_redis_sets_the_heartbeat(tmp_path: Path) -> None:
    key = f"test-rsdev:monitor_redis:{uuid.uuid4().hex}"  # "rsdev:..." in a config reads as a secret token
    client = redis.Redis.from_url(REDIS_URL)
    try:
        path = tmp_path / "c.json5"
        path.write_text(json.dumps({"url": REDIS_URL, "heartbeat_key": key, "heartbeat_ttl_s": 30}))
        result = run_monitor(MODULE, "--once", "--config", str(path))
        assert result.returncode == 0, result.stderr
        body = json.loads(result.stdout.splitlines()[-1])
        assert body["status"] == "ok" and body["ping_ms"] > 0
        assert body["redis_version"] and body["used_memory"] > 0 and body["connected_clients"] >= 1
        value = client.get(key)
        assert value is not None and float(value) > 1e9
        assert 0 < client.ttl(key) <= 30
    finally:
        client.delete(key)
        client.close()


def test_once_unreachable_is_unhealthy() -> None:
    done = run_monitor(MODULE, "--once", "--url", f"redis://127.0.0.1:{free_port()}/0")
    assert done.returncode == 1
    assert json.loads(done.stdout.splitlines()[-1])["status"] == "unhealthy"


def test_unhealthy_while_killed_and_healthy_after_restart(
    private_redis: PrivateRedis, start_monitor: StartMonitor
) -> None:
    with Receiver() as webhook:
        monitor = start_monitor(
            MODULE, "--url", private_redis.url, "--interval", "0.2", "--webhook-url", f"{webhook.url}/hook"
        )
        assert monitor.wait_status(200).json()["connected_clients"] >= 1
        private_redis.kill()
        body = monitor.wait_status(503).json()
        assert body["status"] == "unhealthy" and body["error"]
        monitor.wait_event("unhealthy")
        start = webhook.wait_for("start")
        private_redis.start()  # same port
        assert monitor.wait_status(200).json()["status"] == "ok"
        monitor.wait_event("recovered")
        end = webhook.wait_for("end")
        assert monitor.stop() == 0
        # One alert at the start, one at the end with the duration, however many checks failed.
        assert webhook.phases() == [("start", "Redis"), ("end", "Redis")]
    assert start["service"] == "monitor_redis" and start["text"].startswith("Redis down: ")
    assert end["duration_s"] > 0 and end["text"].startswith("Redis back after ")
    # The failed checks in between are DEBUG lines, not a WARNING each.
    assert [e["event"] for e in monitor.events() if e["level"] == "WARNING"] == ["recovered"]


def test_bad_url_in_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text('{url: "http://nope"}')
    done = run_monitor(MODULE, "--once", "--config", str(path))
    assert done.returncode == 2 and "url: expected a redis://" in done.stderr

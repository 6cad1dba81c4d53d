"""monitor_redis against the real Redis, and against a private redis-server that is killed."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import redis

from tests.misc.conftest import REDIS_URL, PrivateRedis, StartMonitor, run_monitor
from tests.processes import free_port
from tests.redis_cluster import RedisCluster
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


def test_bad_cluster_url_exits_2() -> None:
    done = run_monitor(MODULE, "--once", "--url", "redis+cluster://a:1,b")
    assert done.returncode == 2 and "bad Redis Cluster URL: expected HOST:PORT, found 'b'" in done.stderr


def test_cluster_health_masters_replicas_and_failovers(
    own_redis_cluster: RedisCluster, start_monitor: StartMonitor
) -> None:
    cluster = own_redis_cluster
    key = f"test-monitor:{uuid.uuid4().hex}"
    monitor = start_monitor(MODULE, "--url", cluster.url, "--interval", "0.2")
    body = monitor.wait_status(200).json()
    masters = {m["master"]: m for m in body["cluster"]}
    assert set(masters) == {f"127.0.0.1:{p}" for p in cluster.masters()}
    assert sum(m["slots"] for m in masters.values()) == 16384
    assert all(len(m["replicas"]) == 1 and m["replicas_online"] == 1 for m in masters.values()), json.dumps(body)
    assert body["failovers"] == 0
    victim = cluster.master_of(key)
    assert victim is not None
    cluster.kill(victim)
    monitor.wait_status(503)  # the victim's slots unserved until its replica takes over
    cluster.wait_promoted(key)
    body = monitor.wait_health(lambda b: b.get("status") == "ok" and b.get("failovers") == 1).json()
    assert f"127.0.0.1:{victim}" not in {m["master"] for m in body["cluster"]}
    assert monitor.stop() == 0

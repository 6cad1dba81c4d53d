"""Cluster URLs, key slots, topology replies and redirections: plain code, no Redis."""

from __future__ import annotations

import pytest

from lib_common.errors import BusReplyError
from lib_common.redis_bus.cluster import redirection
from lib_common.redis_bus.format import stream_keys, stream_shard
from lib_common.redis_bus.topology import SLOTS, from_shards, from_slots, key_slot
from lib_common.redis_bus.urls import parse_cluster_url, redis_url_problem, stream_shards


def test_cluster_url_seeds_credentials_and_options() -> None:
    url = parse_cluster_url("rediss+cluster://u:p%40ss@10.0.0.1:7000,[::1]:7001?stream_shards=8&wait_replicas=1")
    assert url.seeds == (("10.0.0.1", 7000), ("::1", 7001))
    assert (url.tls, url.username, url.password) == (True, "u", "p@ss")
    assert (url.stream_shards, url.wait_replicas, url.wait_timeout_ms) == (8, 1, 1000)
    assert url.node_url(("::1", 7001)) == "rediss://u:p%40ss@[::1]:7001/0"
    assert url.redacted() == "rediss+cluster://10.0.0.1:7000,::1:7001"
    assert parse_cluster_url("redis+cluster://:secret@h:1").node_url(("h", 1)) == "redis://:secret@h:1/0"
    assert stream_shards("redis+cluster://h:1?stream_shards=3") == 3
    assert stream_shards("redis://h:1/0") == 1


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis+cluster://", "at least one HOST:PORT"),
        ("redis+cluster://h", "expected HOST:PORT, found 'h'"),
        ("redis+cluster://h:1,h:99999", "expected HOST:PORT, found 'h:99999'"),
        ("redis+cluster://h:1/2", "only database 0"),
        ("redis+cluster://h:1?shards=2", "unknown option 'shards'"),
        ("redis+cluster://h:1?stream_shards=0", "stream_shards: expected an integer from 1 to 1024"),
        ("http://h:1", "expected a redis://, rediss://, unix://, redis+cluster://"),
    ],
)
def test_bad_urls_say_what_is_wrong(url: str, problem: str) -> None:
    found = redis_url_problem(url)
    assert found is not None and problem in found


def test_good_urls_have_no_problem() -> None:
    for url in ("redis://127.0.0.1:6379/0", "unix:///tmp/r.sock", "redis+cluster://a:1,b:2", "rediss+cluster://a:1"):
        assert redis_url_problem(url) is None


def test_key_slots_are_redis_s() -> None:
    # Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
    assert key_slot("123456789") == 0x31C3 % SLOTS
    assert key_slot("foo") == 12182
    assert key_slot("{user1000}.following") == key_slot("{user1000}.followers") == key_slot("user1000")
    assert key_slot("foo{}{bar}") == key_slot(b"foo{}{bar}")  # an empty tag: the whole key
    assert key_slot("foo{}{bar}") != key_slot("bar")
    assert key_slot("foo{{bar}}zap") == key_slot("{bar")


def test_stream_keys_and_shards() -> None:
    assert stream_keys("rsdev:") == ["rsdev:quotes"]
    assert stream_keys("rsdev:", 3) == ["{rsdev:quotes:0}", "{rsdev:quotes:1}", "{rsdev:quotes:2}"]
    assert stream_shard("AAPL", 1) == 0
    shards = {stream_shard(f"S{i}", 4) for i in range(100)}
    assert shards == {0, 1, 2, 3}
    assert stream_shard("AAPL", 4) == stream_shard("AAPL", 4)  # not Python's salted hash: see the docstring


def test_topology_from_cluster_shards() -> None:
    reply = [
        [
            b"slots",
            [0, 5460, 10923, 10999],
            b"nodes",
            [
                [b"id", b"a", b"port", 7000, b"ip", b"10.0.0.1", b"endpoint", b"10.0.0.1", b"role", b"master",
                 b"health", b"online"],
                [b"id", b"b", b"port", 7003, b"ip", b"10.0.0.4", b"endpoint", b"10.0.0.4", b"role", b"replica",
                 b"health", b"loading"],
            ],
        ],
        [b"slots", [5461, 10922], b"nodes", [[b"port", 7001, b"ip", b"10.0.0.2", b"role", b"master"]]],
    ]  # fmt: skip
    topology = from_shards(reply)
    assert topology.master_for(0) == topology.master_for(10999) == ("10.0.0.1", 7000)
    assert topology.master_for(5461) == ("10.0.0.2", 7001)
    assert topology.master_for(11000) is None
    assert topology.unserved == SLOTS - 5461 - 77 - 5462
    assert topology.shards[0].replicas == (("10.0.0.4", 7003),)
    assert topology.shards[0].replica_health == ("loading",)


def test_topology_from_cluster_slots() -> None:
    reply = [
        [0, 8191, [b"10.0.0.1", 7000, b"a"], [b"10.0.0.4", 7003, b"b"]],
        [8192, 16383, [b"10.0.0.2", 7001, b"c"]],
    ]
    topology = from_slots(reply)
    assert topology.unserved == 0
    assert topology.masters == [("10.0.0.1", 7000), ("10.0.0.2", 7001)]
    assert topology.shards[0].replicas == (("10.0.0.4", 7003),)
    topology.moved(5, ("10.0.0.9", 7009))
    assert topology.master_for(5) == ("10.0.0.9", 7009)


def test_redirections() -> None:
    assert redirection(BusReplyError("MOVED", "MOVED 3999 10.0.0.2:6381")) == ("MOVED", 3999, ("10.0.0.2", 6381))
    assert redirection(BusReplyError("ASK", "ASK 1 [::1]:7000")) == ("ASK", 1, ("::1", 7000))
    assert redirection(BusReplyError("ERR", "ERR unknown command")) is None
    assert redirection(BusReplyError("MOVED", "MOVED nonsense")) is None

"""restream's config reader reports every problem at once, each where it stands in the file;
the kit's shared readers (tenants, TLS, URLs) read on after a problem too."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from lib_common.errors import ConfigErrors
from servers.restream.config import parse_config
from servers.server_yahoo.config import parse_config as parse_yahoo_config


def problems(parse: Callable[[str, str], object], text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as info:
        parse(text, "c.json5")
    return str(info.value).splitlines()


def test_two_feed_problems_come_out_together() -> None:
    assert problems(parse_config, "{feed: {kind: 'pigeon',\n hours: 'lunar'}}") == [
        "c.json5:1:15: feed.kind: unknown feed 'pigeon'; expected one of synthetic, yahoo, redis, replay",
        "c.json5:2:9: feed.hours: expected one of nyse, always, found 'lunar'",
    ]


def test_replay_problems_come_out_together() -> None:
    text = "{feed: {kind: 'replay', replay: {speed: -1, from: 'monday', loops: 2}}}"
    assert problems(parse_config, text) == [
        "c.json5:1:68: feed.replay.loops: unknown key; expected one of files, from, to, speed, loop, max_gap_s",
        "c.json5:1:51: feed.replay.from: expected a date YYYY-MM-DD, found 'monday'",
        "c.json5:1:41: feed.replay.speed: must be at least 0.0, found -1.0",
        "c.json5:1:33: feed.replay.files: feed replay needs files: give --replay-file FILE or feed.replay.files",
    ]


def test_every_problem_of_the_feed_tenants_and_tls_at_once() -> None:
    text = """{
  tls: {cert: 'a.pem'},
  tenants: [
    {name: 'desk', token: 't1'},
    {name: 'desk', token: 't2'},
    {name: 'ops', token: 't1'},
  ],
  feed: {upstream_url: 'http://x', chart_url: 'ftp://y', fear_greed_url: 'https://ok',
         extra_closed: ['2025-13-01', '2025-01-09', 'soon']},
}"""
    assert problems(parse_config, text) == [
        "c.json5:2:8: tls: give both cert and key for TLS, or neither",
        "c.json5:5:12: tenants[1].name: tenant 'desk' is defined twice",
        "c.json5:6:26: tenants[2].token: tenant 'ops' reuses another tenant's token",
        "c.json5:8:24: feed.upstream_url: expected a ws:// or wss:// URL, found 'http://x'",
        "c.json5:8:47: feed.chart_url: expected an http:// or https:// URL, found 'ftp://y'",
        "c.json5:9:25: feed.extra_closed[0]: expected a date YYYY-MM-DD, found '2025-13-01'",
        "c.json5:9:53: feed.extra_closed[2]: expected a date YYYY-MM-DD, found 'soon'",
    ]


def test_server_yahoo_reads_on_after_a_bad_upstream_url() -> None:
    assert problems(parse_yahoo_config, "{upstream_url: 'http://x',\n per_connection: 0}") == [
        "c.json5:1:16: upstream_url: expected a ws:// or wss:// URL, found 'http://x'",
        "c.json5:2:18: per_connection: must be at least 1, found 0",
    ]


def test_good_values_still_read() -> None:
    config = parse_config("{feed: {kind: 'yahoo', hours: 'always', chart_url: 'http://127.0.0.1:1'}}")
    assert (config.feed.kind, config.feed.hours, config.feed.chart_url) == ("yahoo", "always", "http://127.0.0.1:1")

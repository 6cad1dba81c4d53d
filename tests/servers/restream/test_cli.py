"""restream's command line: help, config errors, flags over the file."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from servers.restream.__main__ import COMMAND
from tests.servers.conftest import run_module


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module("servers.restream", *args)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{listen: {port: 'eighty'}}", "listen.port: expected an integer, found the string 'eighty'"),
        ("{memory: {budget_bytes: 10}}", "memory.budget_bytes: must be at least 4096, found 10"),
        ("{tenants: [{name: 'a'}]}", "tenants[0].token: missing; expected a string"),
        ("{feed: {kind: 'carrier-pigeon'}}", "feed.kind: unknown feed 'carrier-pigeon'"),
        ("{feed: {upstream_url: 'http://x'}}", "feed.upstream_url: expected a ws:// or wss:// URL"),
        ("{feed: {extra_closed: ['2025-13-01']}}", "feed.extra_closed[0]: expected a date YYYY-MM-DD"),
        ("{tls: {cert: 'a.pem'}}", "tls: give both cert and key"),
        ("{lsiten: {}}", "lsiten: unknown key"),
        ("{listen: {port: 1,,}}", ":1:19: expected a property name or '}', found ','"),
    ],
)
def test_config_errors_say_which_key_and_why(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json5"
    path.write_text(text)
    result = run("--config", str(path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"restream: config error: {path}")
    assert message in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    result = run("--config", str(tmp_path / "nope.json5"))
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{listen: {host: '0.0.0.0', port: 9000}, feed: {rate: 5, symbols: ['x']}}")
    config = COMMAND.resolve(
        COMMAND.build_parser().parse_args(["--config", str(path), "--port", "9100", "--symbols", "a,b"])
    )
    assert (config.host, config.port, config.feed.rate, config.feed.symbols) == ("0.0.0.0", 9100, 5.0, ("A", "B"))


def test_yahoo_feed_flags(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{feed: {kind: 'yahoo', inactivity_timeout_s: 3, extra_closed: ['2025-01-09']}}")
    args = ["--config", str(path), "--upstream-url", "ws://127.0.0.1:8770/"]
    config = COMMAND.resolve(COMMAND.build_parser().parse_args(args))
    assert config.feed.kind == "yahoo" and config.feed.upstream_url == "ws://127.0.0.1:8770/"
    assert config.feed.inactivity_timeout_s == 3.0 and str(config.feed.extra_closed[0]) == "2025-01-09"


def test_defaults_without_config() -> None:
    config = COMMAND.resolve(COMMAND.build_parser().parse_args([]))
    assert (config.host, config.port, config.feed.kind, config.feed.rate, config.tenants) == (
        "127.0.0.1",
        8765,
        "synthetic",
        2.0,
        (),
    )


@pytest.mark.parametrize(
    "args", [["--rate", "0"], ["--rate", "fast"], ["--symbols", ","], ["--feed", "nope"], ["--upstream-url", "x"]]
)
def test_bad_flags_are_usage_errors(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2 and "usage: restream" in result.stderr


def test_stand_in_urls_follow_the_upstream() -> None:
    from servers.restream.feeds import chart_url_for, fear_greed_url_for

    assert chart_url_for("wss://streamer.finance.yahoo.com/?version=2") == "https://query2.finance.yahoo.com"
    assert chart_url_for("ws://127.0.0.1:8770/?version=2") == "http://127.0.0.1:8770"
    assert fear_greed_url_for("ws://127.0.0.1:8770/") == "http://127.0.0.1:8770/index/fearandgreed/graphdata"
    assert fear_greed_url_for("wss://streamer.finance.yahoo.com/").startswith("https://production.dataviz.cnn.io/")

"""docs/server_speak.md documents speak.json5: its example loads, and every key the server accepts
(read from the config's own "unknown key; expected one of ..." errors) is in its tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lib_common.errors import ConfigError
from servers.server_speak.config import SpeakConfig, parse_config
from servers.server_speak.rules import Direction, PercentMove, PriceCross, Priority, RatingChange

DOC = Path(__file__).resolve().parents[3] / "docs" / "server_speak.md"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def example() -> str:
    match = re.search(r"## A complete example.*?```json5\n(.*?)```", doc_text(), re.S)
    assert match is not None, "docs/server_speak.md has no json5 example under 'A complete example'"
    return match.group(1)


def accepted(text: str) -> list[str]:
    """The keys a section accepts, as the config's unknown-key error lists them."""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, env={})
    found = re.search(r"unknown key; expected one of (.*)$", str(caught.value))
    assert found is not None, str(caught.value)
    return found.group(1).split(", ")


def test_the_documented_example_loads_with_its_values() -> None:
    config = parse_config(example(), source=str(DOC), env={})
    assert (config.host, config.port) == ("127.0.0.1", 8774)
    assert config.restream_url == "ws://127.0.0.1:8765/ws" and config.redis_url == "redis://127.0.0.1:6379/0"
    assert config.rules == (
        PriceCross("AAPL", 200.0, Direction.UP, Priority.HIGH, band=0.5, cooldown_s=300.0),
        PercentMove("BTC-USD", 2.0, 300.0, cooldown_s=600.0),
        RatingChange("FEAR-GREED"),
    )
    assert config.monitor_events == frozenset({"outage_start", "outage_end"})
    assert (config.min_gap_s, config.dedup_s, config.capacity) == (2.0, 60.0, 32)
    assert config.output_dir == Path("/var/lib/rsdev/speech") and config.log_dir == Path("/var/log/rsdev")
    assert (config.prune.max_age_s, config.prune.max_bytes) == (604800.0, 104857600)
    assert config.http.figures_token == "s3cret-figures" and config.alerts.webhook_url == "https://hooks.example/rsdev"


@pytest.mark.parametrize(
    ("prefix", "probe"),
    [
        ("", "{zz: 1}"),
        ("listen.", "{listen: {zz: 1}}"),
        ("http.", "{http: {zz: 1}}"),
        ("sources.", "{sources: {zz: 1}}"),
        ("queue.", "{queue: {zz: 1}}"),
        ("prune.", "{prune: {zz: 1}}"),
        ("alerts.", "{alerts: {zz: 1}}"),
    ],
)
def test_every_key_is_in_the_table(prefix: str, probe: str) -> None:
    rows = set(re.findall(r"^\| `([a-z_.]+)` \|", doc_text(), re.M))
    sections = {"listen", "http", "sources", "queue", "prune", "alerts"}
    for key in accepted(probe):
        if prefix or key not in sections:
            assert f"{prefix}{key}" in rows, f"{prefix}{key} is not documented in {DOC.name}"


@pytest.mark.parametrize(
    ("kind", "probe"),
    [
        ("price_cross", '{rules: [{kind: "price_cross", symbol: "A", zz: 1}]}'),
        ("percent_move", '{rules: [{kind: "percent_move", symbol: "A", zz: 1}]}'),
        ("rating_change", '{rules: [{kind: "rating_change", zz: 1}]}'),
        ("monitor", '{rules: [{kind: "monitor", zz: 1}]}'),
    ],
)
def test_every_rule_key_is_in_the_rules_table(kind: str, probe: str) -> None:
    text = doc_text()
    row = re.search(rf"^\| `{kind}` \|(.*)$", text, re.M)
    assert row is not None, f"rule kind {kind} is not documented"
    shared = "`priority`" in text and "`cooldown_s`" in text  # said once for every kind but monitor
    for key in accepted(probe):
        if key == "kind" or (key in ("priority", "cooldown_s") and shared):
            continue
        assert f"`{key}`" in row.group(1), f"rules: {kind}.{key} is not documented"


def test_the_documented_defaults_are_the_defaults() -> None:
    defaults = parse_config("{}", env={})
    assert defaults == SpeakConfig(output_dir=defaults.output_dir)
    table = dict(re.findall(r"^\| `([a-z_.]+)` \| `([^`]+)`", doc_text(), re.M))
    assert table["listen.port"] == str(defaults.port) and table["listen.host"] == defaults.host
    assert table["sources.channel_prefix"] == defaults.channel_prefix
    assert float(table["queue.min_gap_s"]) == defaults.min_gap_s and float(table["queue.dedup_s"]) == defaults.dedup_s
    assert int(table["queue.capacity"]) == defaults.capacity
    assert float(table["prune.max_age_s"]) == defaults.prune.max_age_s
    assert int(table["prune.max_bytes"]) == defaults.prune.max_bytes
    assert float(table["speech_timeout_s"]) == defaults.speech_timeout_s and table["log_level"] == defaults.log_level
    assert float(table["alerts.min_interval_s"]) == defaults.alerts.min_interval_s
    assert int(table["alerts.queue_size"]) == defaults.alerts.queue_size
    assert float(table["alerts.timeout_s"]) == defaults.alerts.timeout_s

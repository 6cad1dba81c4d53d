"""Client frames of Yahoo's streamer protocol, and one connection's subscription set."""

from __future__ import annotations

import json

import pytest

from servers.server_dummy.protocol import ClientRequest, MalformedClientFrame, Subscriptions, parse_client_frame


def test_subscribe_frame_lists_symbols_normalised() -> None:
    request = parse_client_frame('{"subscribe": ["aapl", " BTC-USD ", ""]}')
    assert request == ClientRequest(subscribe=("AAPL", "BTC-USD"))


def test_unsubscribe_frame() -> None:
    assert parse_client_frame('{"unsubscribe": ["MSFT"]}') == ClientRequest(unsubscribe=("MSFT",))


def test_unknown_keys_are_ignored() -> None:
    assert parse_client_frame('{"hello": 1}') == ClientRequest()


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '"AAPL"',
        '{"subscribe": "AAPL"}',
        '{"subscribe": [1, 2]}',
        '{"unsubscribe": {"AAPL": true}}',
        '{"subscribe": null}',
    ],
)
def test_malformed_frames_are_refused(text: str) -> None:
    with pytest.raises(MalformedClientFrame):
        parse_client_frame(text)


def test_subscribing_again_adds_nothing() -> None:
    subs = Subscriptions()
    assert subs.add(["AAPL", "MSFT"]) == ["AAPL", "MSFT"]
    assert subs.add(["AAPL", "MSFT"]) == []
    assert list(subs) == ["AAPL", "MSFT"]


def test_symbols_past_the_cap_are_dropped_silently() -> None:
    subs = Subscriptions(capacity=100)
    added = subs.add([f"S{i}" for i in range(101)])
    assert len(added) == 100 and "S100" not in subs


def test_unsubscribe_returns_only_what_was_subscribed() -> None:
    subs = Subscriptions()
    subs.add(["AAPL"])
    assert subs.remove(["AAPL", "MSFT", "AAPL"]) == ["AAPL"]
    assert len(subs) == 0


def test_whole_set_resent_as_json_round_trips() -> None:
    symbols = [f"T{i}" for i in range(20)]
    assert parse_client_frame(json.dumps({"subscribe": symbols})).subscribe == tuple(symbols)

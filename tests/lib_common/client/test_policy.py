"""The client's decisions without a socket: reconnect delays by close code, resubscription,
de-duplication, events. Time is a ManualClock; randomness a fixed backoff."""

from __future__ import annotations

import json
import logging

import pytest

from lib_common.client.events import ClientEvent, ServerError, StateChanged, UpstreamChanged
from lib_common.client.policy import ClientPolicy, describe_close
from lib_common.client.subscriptions import REDIS2WS
from lib_common.clock import ManualClock
from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import LinkState


def policy(events: list[ClientEvent] | None = None, **kw: object) -> ClientPolicy:
    clock = ManualClock()
    backoff = Backoff(base_s=1.0, cap_s=8.0, jitter=0.0)
    sink = events.append if events is not None else None
    return ClientPolicy("client", monotonic=clock.monotonic, backoff=backoff, on_event=sink, **kw)  # type: ignore[arg-type]


def quote(symbol: str, ts: int, price: float = 1.0, volume: int | None = None) -> str:
    body: dict[str, object] = {"type": "quote", "symbol": symbol, "price": price, "ts_upstream": ts}
    if volume is not None:
        body["day_volume"] = volume
    return json.dumps(body)


def test_a_1012_close_reconnects_at_once_every_other_close_backs_off() -> None:
    p = policy()
    p.connecting()
    p.connected()
    assert p.lost(1012, "service restart") == 0.0
    p.connecting()
    assert p.failed(ConnectionRefusedError("refused")) == 2.0  # the attempt after the 1012 counts on
    p.connecting()
    p.connected()
    assert p.lost(1001, "server shutting down") == 1.0  # reset by the connect
    assert p.lost(1013, "slow consumer") == 2.0
    assert p.lost(None) == 4.0
    assert p.last_close_code is None


def test_states_move_and_every_move_is_an_event_with_its_reason() -> None:
    events: list[ClientEvent] = []
    p = policy(events)
    p.connecting()
    p.connected()
    p.lost(1012, "service restart")
    p.stopped()
    assert [(e.state, e.previous) for e in events if isinstance(e, StateChanged)] == [
        (LinkState.CONNECTING, LinkState.IDLE),
        (LinkState.CONNECTED, LinkState.CONNECTING),
        (LinkState.BACKOFF, LinkState.CONNECTED),
        (LinkState.IDLE, LinkState.BACKOFF),
    ]
    lost = events[2]
    assert isinstance(lost, StateChanged)
    assert lost.close_code == 1012 and lost.retry_in_s == 0.0
    assert lost.reason == "closed 1012 (service restart): service restart"


def test_a_401_or_403_stops_for_good_other_statuses_retry() -> None:
    p = policy()
    p.connecting()
    assert p.refused(503, "HTTP 503") == 1.0
    assert p.state is LinkState.BACKOFF
    assert p.refused(401, "HTTP 401") is None
    assert p.state is LinkState.IDLE


def test_a_silent_connection_is_lost_with_its_silence_as_the_reason() -> None:
    events: list[ClientEvent] = []
    p = policy(events)
    p.connected()
    assert p.stalled(10.04) == 1.0
    assert isinstance(events[-1], StateChanged) and events[-1].reason == "silent for 10.0 s"


def test_every_connection_asks_for_everything_wanted_in_chunks() -> None:
    p = policy(max_per_message=2)
    assert p.subscribe(["A", "B", "A"]) == [json.dumps({"op": "subscribe", "symbols": ["A", "B"]})]
    assert p.subscribe(["B", "C"]) == [json.dumps({"op": "subscribe", "symbols": ["C"]})]
    assert p.unsubscribe(["B", "Z"]) == [json.dumps({"op": "unsubscribe", "symbols": ["B"]})]
    assert p.unsubscribe(["Z"]) == []
    assert p.connected() == [json.dumps({"op": "subscribe", "symbols": ["A", "C"]})]
    p.subscribe(["D", "E"])
    assert [json.loads(m)["symbols"] for m in p.connected()] == [["A", "C"], ["D", "E"]]


def test_never_the_same_quote_twice_nor_an_older_one_after_a_newer() -> None:
    p = policy()
    assert p.receive(quote("AAPL", 100, 1.0, 10)) is not None
    assert p.receive(quote("AAPL", 100, 1.0, 10)) is None  # the snapshot again (a resubscribe)
    assert p.receive(quote("AAPL", 99, 2.0)) is None  # older
    assert p.receive(quote("AAPL", 100, 1.5, 10)) is not None  # same time, a new price
    assert p.receive(quote("MSFT", 50)) is not None  # symbols apart
    assert p.receive(quote("AAPL", 101)) is not None
    assert p.figures()["dropped_repeats"] == 2


def test_a_frame_without_symbol_and_integer_time_passes_as_sent() -> None:
    p = policy()
    odd = {"type": "quote", "symbol": "X", "ts_upstream": "yesterday"}
    assert p.receive(json.dumps(odd)) == odd
    assert p.receive(json.dumps(odd)) == odd


def test_control_frames_become_events_and_state_never_data() -> None:
    events: list[ClientEvent] = []
    p = policy(events)
    status = {"type": "status", "upstream": "polling", "previous": "streaming", "reason": "stream silent", "ts": 1}
    for frame in (
        {"type": "subscribed", "symbols": ["A"]},
        {"type": "pong"},
        status,
        {"type": "error", "code": "symbol_refused", "message": "ZZZ: not served"},
        {"type": "from_the_future"},
    ):
        assert p.receive(json.dumps(frame)) is None
    assert p.receive(b"not json") is None and p.receive("[1]") is None
    assert events == [UpstreamChanged("polling", status), ServerError("symbol_refused", "ZZZ: not served")]
    assert p.upstream == "polling"
    assert p.figures()["bad_frames"] == 2 and p.figures()["server_errors"] == 1
    p.connected()
    assert p.upstream is None  # a new connection's upstream is unknown until it says


def test_a_hostile_frame_is_counted_not_raised() -> None:
    p = policy([])
    for text in ('{"type": ["pong"]}', '{"type": {"a": 1}}', "[" * 100_000, '{"a":' * 100_000):
        assert p.receive(text) is None
    assert p.figures()["bad_frames"] == 2  # the two too deep to read; the others are unknown control frames


def test_redis2ws_messages_are_yielded_whole_and_their_quotes_deduplicated() -> None:
    p = policy(dialect=REDIS2WS)
    data = {"type": "quote", "symbol": "AAPL", "price": 1.0, "ts_upstream": 100}
    message = {"type": "message", "channel": "rsdev:quote:AAPL", "data": data}
    assert p.receive(json.dumps(message)) == message
    # The same quote through a pattern subscription too: once is enough.
    assert p.receive(json.dumps({**message, "pattern": "rsdev:quote:*"})) is None
    text = {"type": "message", "channel": "alerts", "data": "plain text"}
    assert p.receive(json.dumps(text)) == text and p.receive(json.dumps(text)) == text
    assert p.receive(quote("AAPL", 200)) is None  # a restream frame is not redis2ws's data
    assert p.subscribe(["alerts"]) == [json.dumps({"op": "subscribe", "channels": ["alerts"]})]
    assert p.subscribe(["rsdev:*"], "patterns") == [json.dumps({"op": "psubscribe", "patterns": ["rsdev:*"]})]
    with pytest.raises(ValueError, match="not symbols"):
        p.subscribe(["AAPL"], "symbols")


def test_a_callback_that_raises_is_logged_and_the_policy_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def boom(event: ClientEvent) -> None:
        raise RuntimeError("user bug")

    p = ClientPolicy("client", monotonic=ManualClock().monotonic, on_event=boom)
    p.connecting()
    p.connected()
    assert p.state is LinkState.CONNECTED
    assert any("on_event callback raised" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_close_codes_are_described_for_people() -> None:
    assert describe_close(1012) == "closed 1012 (service restart)"
    assert describe_close(4000, "custom") == "closed 4000 (unknown code): custom"
    assert describe_close(None) == "connection lost"

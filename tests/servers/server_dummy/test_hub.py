"""The hub on fake connections: who gets which frame, and what each fault does to them."""

from __future__ import annotations

import json

from lib_common.clock import ManualClock
from servers.server_dummy.book import PriceBook
from servers.server_dummy.faults import FaultRequest, Faults
from servers.server_dummy.hub import Connection, Hub
from servers.server_dummy.pricing import Malformed
from tests.servers.server_dummy.client import decode_frame


class FakeEgress:
    def __init__(self, writable: bool = True) -> None:
        self.frames: list[str] = []
        self.closed: list[int | None] = []
        self.aborted = False
        self.writable = writable

    def send_text(self, text: str) -> bool:
        if not self.writable or self.closed or self.aborted:
            return False
        self.frames.append(text)
        return True

    def close(self, code: int | None, reason: str = "") -> None:
        self.closed.append(code)

    def abort(self) -> None:
        self.aborted = True


def make_hub() -> tuple[Hub, PriceBook]:
    book = PriceBook(ManualClock())
    return Hub(book, Faults()), book


def join(hub: Hub, *symbols: str) -> tuple[Connection, FakeEgress]:
    egress = FakeEgress()
    connection = hub.join(egress)
    assert connection is not None
    assert hub.receive(connection, json.dumps({"subscribe": list(symbols)}))
    return connection, egress


def ids(egress: FakeEgress) -> list[object]:
    return [decode_frame(f)["id"] for f in egress.frames]


def test_each_connection_gets_only_its_symbols() -> None:
    hub, book = make_hub()
    _, apple = join(hub, "AAPL")
    _, both = join(hub, "AAPL", "MSFT")
    book.tick()
    assert ids(apple) == ["AAPL"] and sorted(map(str, ids(both))) == ["AAPL", "MSFT"]


def test_resending_the_whole_set_does_not_duplicate_frames() -> None:
    hub, book = make_hub()
    connection, egress = join(hub, "AAPL")
    hub.receive(connection, json.dumps({"subscribe": ["AAPL"]}))
    book.tick()
    assert ids(egress) == ["AAPL"]


def test_unsubscribe_stops_frames() -> None:
    hub, book = make_hub()
    connection, egress = join(hub, "AAPL", "MSFT")
    hub.receive(connection, json.dumps({"unsubscribe": ["AAPL"]}))
    book.tick()
    assert ids(egress) == ["MSFT"]
    assert hub.status()["subscriptions"] == {"MSFT": 1}


def test_leaving_drops_subscriptions() -> None:
    hub, _ = make_hub()
    connection, _ = join(hub, "AAPL")
    hub.leave(connection)
    assert hub.status()["subscriptions"] == {} and hub.connection_count == 0


def test_unknown_symbols_are_subscribed_but_silent() -> None:
    hub, book = make_hub()
    _, egress = join(hub, "NO$SUCH")
    book.tick()
    assert egress.frames == [] and hub.status()["subscriptions"] == {"NO$SUCH": 1}


def test_malformed_client_frame_closes_without_status() -> None:
    hub, _ = make_hub()
    connection, egress = join(hub)
    assert not hub.receive(connection, '{"subscribe": "AAPL"}')
    assert egress.closed == [None]


def test_binary_client_frame_closes_without_status() -> None:
    hub, _ = make_hub()
    connection, egress = join(hub)
    assert not hub.receive(connection, None)
    assert egress.closed == [None]


def test_stall_withholds_frames() -> None:
    hub, book = make_hub()
    _, egress = join(hub, "AAPL")
    hub.set_fault(FaultRequest("stall"))
    book.tick()
    hub.set_fault(FaultRequest("none"))
    book.tick()
    assert len(egress.frames) == 1 and hub.events["withheld"] == 1


def test_malformed_interleaves_a_bad_frame_after_each_good_one() -> None:
    hub, book = make_hub()
    _, egress = join(hub, "AAPL")
    hub.set_fault(FaultRequest("malformed"))
    for _ in range(len(Malformed)):
        book.tick()
    good = egress.frames[0::2]
    assert [decode_frame(f)["id"] for f in good] == ["AAPL"] * len(Malformed)
    assert hub.status()["frames_sent"] == {"pricing": 5, **{kind.value: 1 for kind in Malformed}}


def test_close_fault_ends_every_connection_with_1000_once() -> None:
    hub, _ = make_hub()
    _, first = join(hub, "AAPL")
    _, second = join(hub, "MSFT")
    answer = hub.set_fault(FaultRequest("close"))
    assert first.closed == [1000] and second.closed == [1000]
    assert answer["connections_ended"] == 2 and answer["mode"] == "none"
    assert hub.join(FakeEgress()) is not None


def test_abort_fault_resets_connections() -> None:
    hub, _ = make_hub()
    _, egress = join(hub, "AAPL")
    hub.set_fault(FaultRequest("abort"))
    assert egress.aborted and egress.closed == []


def test_persistent_abort_ends_new_connections_at_once() -> None:
    hub, _ = make_hub()
    hub.set_fault(FaultRequest("abort", persist=True))
    egress = FakeEgress()
    assert hub.join(egress) is None and egress.aborted


def test_a_connection_that_cannot_take_frames_loses_them() -> None:
    hub, book = make_hub()
    _, egress = join(hub, "AAPL")
    egress.writable = False
    book.tick()
    assert hub.events["dropped"] == 1 and hub.sent["pricing"] == 0

"""Fault state: which modes persist, which are one-shot, and what a request may say."""

from __future__ import annotations

import pytest

from servers.server_dummy.faults import FaultRequest, FaultRequestError, Faults, HttpFault, StreamFault
from servers.server_dummy.pricing import Malformed


def apply(faults: Faults, **body: object) -> StreamFault | None:
    return faults.apply(FaultRequest.parse(body))


@pytest.mark.parametrize("mode", ["stall", "malformed"])
def test_stall_and_malformed_stay_until_changed(mode: str) -> None:
    faults = Faults()
    assert apply(faults, mode=mode) is None
    assert faults.stream == mode
    apply(faults, mode="none")
    assert faults.stream is StreamFault.NONE


@pytest.mark.parametrize("mode", ["close", "abort"])
def test_close_and_abort_act_once_then_revert_to_none(mode: str) -> None:
    faults = Faults()
    assert apply(faults, mode=mode) == mode
    assert faults.stream is StreamFault.NONE and faults.on_connect is None


def test_persistent_close_applies_to_new_connections() -> None:
    faults = Faults()
    assert apply(faults, mode="close", persist=True) is StreamFault.CLOSE
    assert faults.on_connect is StreamFault.CLOSE
    apply(faults, mode="none")
    assert faults.on_connect is None


def test_http_faults_leave_the_stream_alone() -> None:
    faults = Faults()
    apply(faults, mode="stall")
    apply(faults, mode="http_error", status=502)
    assert (faults.stream, faults.http, faults.http_status) == (StreamFault.STALL, HttpFault.HTTP_ERROR, 502)


def test_none_clears_both_slots() -> None:
    faults = Faults()
    apply(faults, mode="malformed")
    apply(faults, mode="http_429", retry_after=7)
    apply(faults, mode="none")
    assert faults.describe() == {
        "mode": "none",
        "persist": False,
        "http": {"mode": "none", "status": 503, "retry_after": 7},
    }


def test_malformed_kinds_cycle() -> None:
    faults = Faults()
    kinds = [faults.next_malformed() for _ in range(2 * len(Malformed))]
    assert kinds == list(Malformed) * 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "expected a JSON object"),
        ({"mode": "explode"}, "mode: expected one of none, stall, malformed, close, abort, http_error, http_429"),
        ({}, "found None"),
        ({"mode": "stall", "persist": True}, "persist: only close and abort"),
        ({"mode": "http_error", "status": 200}, "status: expected an HTTP error status"),
        ({"mode": "http_429", "retry_after": -1}, "retry_after: expected whole seconds"),
        ({"mode": "none", "symbols": ["AAPL"]}, "unknown key 'symbols'"),
    ],
)
def test_bad_requests_say_what_is_wrong(body: object, message: str) -> None:
    with pytest.raises(FaultRequestError, match=message):
        FaultRequest.parse(body)

"""lib_common.web_urls: a URL from a config is refused with a reason, never with a ValueError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lib_common.web_urls import HTTP, WS, url_problem


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("wss://st[", "Invalid IPv6 URL"),  # a fuzz finding: urlsplit's ValueError reached the config reader
        ("ws://h:99999/", "Port out of range"),
        ("ws://h:x/", "Port could not be cast"),
        ("http://h/", "found 'http://h/'"),
        ("ws:///path", "found 'ws:///path'"),  # no host
    ],
)
def test_a_bad_url_is_a_problem_that_says_why(url: str, says: str) -> None:
    problem = url_problem(url, WS, "a ws:// or wss:// URL")
    assert problem is not None and problem.startswith("expected a ws:// or wss:// URL") and says in problem


def test_good_urls_pass() -> None:
    assert url_problem("wss://streamer.finance.yahoo.com/?version=2", WS, "w") is None
    assert url_problem("http://[::1]:8774/speak", HTTP, "h") is None


@given(st.text(max_size=60))
def test_any_text_gets_an_answer_not_an_exception(text: str) -> None:
    problem = url_problem(text, HTTP, "an http:// or https:// URL")
    assert problem is None or len(problem) < 400
